import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { deployWithBatch } from "../helpers/fixtures";

describe("scratch", function () {
  it("timing", async function () {
    const f = await loadFixture(deployWithBatch);
    const { escrow, batchId, alice, coopAdmin, buyer } = f;
    let t0 = Date.now();
    for (let i = 0; i < 200; i++) await escrow.claimable(batchId, ethers.ZeroAddress, alice.address, 5n);
    console.log("seq call ms", (Date.now() - t0) / 200);
    t0 = Date.now();
    await Promise.all(Array.from({ length: 200 }, () => escrow.claimable(batchId, ethers.ZeroAddress, alice.address, 5n)));
    console.log("par call ms", (Date.now() - t0) / 200);
    t0 = Date.now();
    for (let i = 0; i < 50; i++) await escrow.connect(coopAdmin).createSale(batchId, 1n, ethers.ZeroAddress, 100n, ethers.ZeroAddress, 86400, 86400, { gasLimit: 1_000_000 });
    console.log("tx ms", (Date.now() - t0) / 50);
    t0 = Date.now();
    for (let i = 0; i < 20; i++) await loadFixture(deployWithBatch);
    console.log("loadFixture ms", (Date.now() - t0) / 20);
    const before = await ethers.provider.getBlockNumber();
    const now = await time.latest();
    await time.setNextBlockTimestamp(now + 5);
    try {
      await escrow.connect(buyer).release(1n, { gasLimit: 1_000_000 });
      console.log("no throw");
    } catch (e) {
      console.log("threw", (e as Error).message.slice(0, 200));
    }
    const after = await ethers.provider.getBlockNumber();
    console.log("blocks", before, after, await time.latest(), now);
    expect(1).to.equal(1);
  });
});
