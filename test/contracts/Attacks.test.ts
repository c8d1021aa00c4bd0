/**
 * Attacks on the money and the permissions: re-entry, odd tokens, forced ether, forged ERC-2771
 * senders, and every role-guarded function called by every wrong role.
 */
import { expect } from "chai";
import { ethers, network } from "hardhat";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { loadFixture, setBalance, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { BaseContract, ContractTransactionResponse, Interface, TypedDataDomain } from "ethers";
import {
  DAY,
  RESERVE_BPS,
  batchInfo,
  deployWithBatch,
  referenceHash,
  registerBatch,
  treeOf,
  word,
} from "../helpers/fixtures";
import { shareOf, splitRevenue } from "../../domain/split";
import type { Forwarder } from "../../typechain-types";

const ETH = ethers.ZeroAddress;
const PRICE = 1_000_000_000n;
const RE_WEIGHT = 600n; // the reentrant receiver's weight in its batch
const ALICE_WEIGHT = 400n;

type Env = Awaited<ReturnType<typeof attackFixture>>;

/** deployWithBatch, plus a ReentrantReceiver that is a member and a contributor of a second batch. */
async function attackFixture() {
  const f = await deployWithBatch();
  const receiver = await (await ethers.getContractFactory("ReentrantReceiver")).deploy();
  const receiverAddress = await receiver.getAddress();
  await f.registry.connect(f.coopAdmin).addMember(f.cooperativeId, receiverAddress, referenceHash("reentrant"));
  const reBatch = await registerBatch(
    f.batches,
    f.coopAdmin,
    f.cooperativeId,
    [
      { account: receiverAddress, weight: RE_WEIGHT },
      { account: f.alice.address, weight: ALICE_WEIGHT },
    ],
    { lotCode: "ROSE-RE-001" },
  );
  const escrowAddress = await f.escrow.getAddress();
  return { ...f, receiver, receiverAddress, reBatch, escrowAddress };
}

/** Creates a sale of `batchId` for `price` in `token`, reserved for `buyer` when given. Returns its id. */
async function createSale(env: Env, batchId: string, token: string, price: bigint, buyer = ETH): Promise<bigint> {
  await env.escrow.connect(env.coopAdmin).createSale(batchId, 10n, token, price, buyer, DAY, DAY);
  return env.escrow.saleCount();
}

/** A sale in `token` funded by env.buyer, shipped and confirmed: its net is claimable. */
async function releasedSale(env: Env, batchId: string, token = ETH, price = PRICE): Promise<bigint> {
  const saleId = await createSale(env, batchId, token, price);
  await env.escrow.connect(env.buyer).fund(saleId, { value: token === ETH ? price : 0n });
  await env.escrow.connect(env.coopAdmin).markShipped(saleId, ethers.id("waybill"));
  await env.escrow.connect(env.buyer).confirmDelivery(saleId);
  return saleId;
}

/** Decoded errors of every REVERT executed in a mined transaction, inner calls included. */
async function revertsInTrace(txHash: string, iface: Interface): Promise<string[]> {
  const trace = (await network.provider.send("debug_traceTransaction", [txHash])) as {
    structLogs: { op: string; stack: string[]; memory?: string[] }[];
  };
  const names: string[] = [];
  for (const log of trace.structLogs) {
    if (log.op !== "REVERT" || log.memory === undefined) continue;
    const offset = Number(BigInt("0x" + log.stack[log.stack.length - 1]));
    const size = Number(BigInt("0x" + log.stack[log.stack.length - 2]));
    const data = "0x" + log.memory.join("").slice(offset * 2, (offset + size) * 2);
    let name: string = data;
    try {
      name = iface.parseError(data)?.name ?? data;
    } catch {
      // not an error of this interface (a string reason, or empty): keep the raw data
    }
    names.push(name);
  }
  return names;
}

function countEvents(
  receipt: { logs: readonly { address: string; topics: readonly string[] }[] },
  contract: BaseContract,
  name: string,
) {
  const topic = contract.interface.getEvent(name)?.topicHash;
  return receipt.logs.filter((l) => l.topics[0] === topic).length;
}

describe("Attacks", function () {
  describe("re-entry", function () {
    context("when a contributor contract re-enters claim on receiving its share", function () {
      async function armedClaim() {
        const env = await loadFixture(attackFixture);
        const { escrow, receiver, reBatch, escrowAddress } = env;
        await releasedSale(env, reBatch.batchId);
        const { net } = splitRevenue(PRICE, await escrow.feeBps(), RESERVE_BPS);
        const due = shareOf(net, RE_WEIGHT, RE_WEIGHT + ALICE_WEIGHT);
        const claimData = escrow.interface.encodeFunctionData("claim", [
          reBatch.batchId,
          ETH,
          reBatch.tree.wordOf(env.receiverAddress),
          reBatch.tree.proof(env.receiverAddress),
        ]);
        return { env, due, claimData, receiver, escrowAddress };
      }

      it("blocks the re-entry with ReentrancyGuardReentrantCall and pays the share once", async function () {
        const { env, due, claimData, receiver, escrowAddress } = await armedClaim();
        await receiver.arm(escrowAddress, claimData, false);

        const tx = receiver.execute(escrowAddress, 0n, claimData);
        await expect(tx).to.changeEtherBalances([env.escrow, receiver], [-due, due]);
        const receipt = (await (await tx).wait())!;
        expect(countEvents(receipt, env.escrow, "Claimed")).to.equal(1);
        await expect(tx)
          .to.emit(env.escrow, "Claimed")
          .withArgs(env.reBatch.batchId, ETH, env.receiverAddress, due, RE_WEIGHT);
        expect(await revertsInTrace(receipt.hash, env.escrow.interface)).to.include("ReentrancyGuardReentrantCall");

        expect(await receiver.reentered()).to.equal(true);
        expect(await receiver.reentrySucceeded()).to.equal(false);
        expect(await receiver.received()).to.equal(due);
        expect(await env.escrow.claimed(env.reBatch.batchId, ETH, env.receiverAddress)).to.equal(due);
        expect(await env.escrow.claimable(env.reBatch.batchId, ETH, env.receiverAddress, RE_WEIGHT)).to.equal(0n);
        await expect(receiver.execute(escrowAddress, 0n, claimData))
          .to.be.revertedWithCustomError(env.escrow, "SaleEscrowNothingDue")
          .withArgs(env.receiverAddress);
      });

      it("pays nothing when the receiver insists on the re-entry succeeding", async function () {
        const { env, claimData, receiver, escrowAddress } = await armedClaim();
        await receiver.arm(escrowAddress, claimData, true);
        const balance = await ethers.provider.getBalance(escrowAddress);

        await expect(receiver.execute(escrowAddress, 0n, claimData)).to.be.revertedWith("reentry failed");
        expect(await ethers.provider.getBalance(escrowAddress)).to.equal(balance);
        expect(await ethers.provider.getBalance(env.receiverAddress)).to.equal(0n);
        expect(await env.escrow.claimed(env.reBatch.batchId, ETH, env.receiverAddress)).to.equal(0n);
      });
    });

    context("when a buyer contract re-enters withdraw on receiving its refund", function () {
      async function refundedReceiver() {
        const env = await loadFixture(attackFixture);
        const { escrow, receiver, escrowAddress, coopAdmin, batchId } = env;
        const saleId = await createSale(env, batchId, ETH, PRICE, env.receiverAddress);
        await receiver.execute(escrowAddress, PRICE, escrow.interface.encodeFunctionData("fund", [saleId]), {
          value: PRICE,
        });
        await expect(escrow.connect(coopAdmin).cancel(saleId))
          .to.emit(escrow, "SaleRefunded")
          .withArgs(saleId, env.receiverAddress, ETH, PRICE);
        const withdrawData = escrow.interface.encodeFunctionData("withdraw", [ETH, env.receiverAddress]);
        return { env, withdrawData };
      }

      it("blocks the re-entry and refunds once", async function () {
        const { env, withdrawData } = await refundedReceiver();
        const { escrow, receiver, escrowAddress, outsider } = env;
        await receiver.arm(escrowAddress, withdrawData, false);

        const tx = escrow.connect(outsider).withdraw(ETH, env.receiverAddress);
        await expect(tx).to.changeEtherBalances([escrow, receiver], [-PRICE, PRICE]);
        const receipt = (await (await tx).wait())!;
        expect(countEvents(receipt, escrow, "Withdrawn")).to.equal(1);
        expect(await revertsInTrace(receipt.hash, escrow.interface)).to.include("ReentrancyGuardReentrantCall");
        expect(await receiver.reentrySucceeded()).to.equal(false);
        expect(await receiver.received()).to.equal(PRICE);
        expect(await escrow.credited(ETH, env.receiverAddress)).to.equal(0n);
        await expect(escrow.withdraw(ETH, env.receiverAddress))
          .to.be.revertedWithCustomError(escrow, "SaleEscrowNothingDue")
          .withArgs(env.receiverAddress);
      });

      it("blocks a re-entry into claim as well, which succeeds once the withdrawal is over", async function () {
        const { env, withdrawData } = await refundedReceiver();
        const { escrow, receiver, escrowAddress, reBatch } = env;
        await releasedSale(env, reBatch.batchId);
        const due = await escrow.claimable(reBatch.batchId, ETH, env.receiverAddress, RE_WEIGHT);
        expect(due).to.be.greaterThan(0n);
        const claimData = escrow.interface.encodeFunctionData("claim", [
          reBatch.batchId,
          ETH,
          reBatch.tree.wordOf(env.receiverAddress),
          reBatch.tree.proof(env.receiverAddress),
        ]);
        await receiver.arm(escrowAddress, claimData, false);

        const tx = receiver.execute(escrowAddress, 0n, withdrawData);
        await expect(tx).to.changeEtherBalance(receiver, PRICE);
        expect(await revertsInTrace((await tx).hash, escrow.interface)).to.include("ReentrancyGuardReentrantCall");
        expect(await receiver.reentrySucceeded()).to.equal(false);
        expect(await escrow.claimed(reBatch.batchId, ETH, env.receiverAddress)).to.equal(0n);
        // The share was not lost, only refused during the withdrawal.
        await expect(receiver.execute(escrowAddress, 0n, claimData)).to.changeEtherBalance(receiver, due);
      });
    });
  });

  describe("tokens", function () {
    it("accepts a token without return values through the whole flow", async function () {
      const env = await loadFixture(attackFixture);
      const { escrow, escrowAddress, deployer, buyer, coopAdmin, alice, bob, carol, feeRecipient, tree, batchId } = env;
      const token = await (await ethers.getContractFactory("NoReturnToken")).deploy();
      const tokenAddress = await token.getAddress();
      await escrow.connect(deployer).setTokenAllowed(tokenAddress, true);
      await token.mint(buyer.address, 2n * PRICE);
      await token.connect(buyer).approve(escrowAddress, 2n * PRICE);

      const saleId = await createSale(env, batchId, tokenAddress, PRICE, buyer.address);
      await expect(escrow.connect(buyer).fund(saleId)).to.changeTokenBalances(token, [buyer, escrow], [-PRICE, PRICE]);
      await escrow.connect(coopAdmin).markShipped(saleId, ethers.id("waybill"));
      await time.increase(DAY + 1);
      const { fee, reserve, net } = splitRevenue(PRICE, await escrow.feeBps(), RESERVE_BPS);
      await expect(escrow.connect(alice).release(saleId))
        .to.emit(escrow, "SaleReleased")
        .withArgs(saleId, batchId, tokenAddress, PRICE, fee, reserve, net, net);

      let paid = 0n;
      for (const member of [alice, bob, carol]) {
        const weight = tree.weightOf(member.address);
        const share = shareOf(net, weight, tree.totalWeight);
        await expect(
          escrow.connect(member).claim(batchId, tokenAddress, tree.wordOf(member.address), tree.proof(member.address)),
        ).to.changeTokenBalances(token, [member, escrow], [share, -share]);
        paid += share;
      }
      await expect(escrow.withdraw(tokenAddress, feeRecipient.address)).to.changeTokenBalance(token, feeRecipient, fee);
      await expect(
        escrow.connect(coopAdmin).withdrawReserve(env.cooperativeId, tokenAddress, coopAdmin.address, reserve),
      ).to.changeTokenBalance(token, coopAdmin, reserve);

      // A refund comes back in the same token.
      const second = await createSale(env, batchId, tokenAddress, PRICE, buyer.address);
      await escrow.connect(buyer).fund(second);
      await escrow.connect(coopAdmin).cancel(second);
      await expect(escrow.withdraw(tokenAddress, buyer.address)).to.changeTokenBalance(token, buyer, PRICE);

      expect(await token.balanceOf(escrowAddress)).to.equal(net - paid); // rounding dust only
    });

    it("refuses a fee-on-transfer token at funding and changes nothing", async function () {
      const env = await loadFixture(attackFixture);
      const { escrow, escrowAddress, deployer, buyer, batches, batchId } = env;
      const token = await (await ethers.getContractFactory("FeeOnTransferToken")).deploy();
      const tokenAddress = await token.getAddress();
      await escrow.connect(deployer).setTokenAllowed(tokenAddress, true);
      await token.mint(buyer.address, PRICE);
      await token.connect(buyer).approve(escrowAddress, PRICE);
      const saleId = await createSale(env, batchId, tokenAddress, PRICE);
      const saleBefore = await escrow.getSale(saleId);
      const drawnBefore = (await batches.getBatch(batchId)).drawn;

      await expect(escrow.connect(buyer).fund(saleId))
        .to.be.revertedWithCustomError(escrow, "SaleEscrowTransferShortfall")
        .withArgs(PRICE, PRICE - PRICE / 100n);

      expect([...(await escrow.getSale(saleId))]).to.deep.equal([...saleBefore]);
      expect(saleBefore.state).to.equal(1n); // Created
      expect(saleBefore.buyer).to.equal(ETH);
      expect(await token.balanceOf(buyer.address)).to.equal(PRICE);
      expect(await token.balanceOf(escrowAddress)).to.equal(0n);
      expect(await token.allowance(buyer.address, escrowAddress)).to.equal(PRICE);
      expect((await batches.getBatch(batchId)).drawn).to.equal(drawnBefore);
      expect(await escrow.credited(tokenAddress, buyer.address)).to.equal(0n);
    });
  });

  describe("ether forced in with selfdestruct", function () {
    it("changes no accounting, and later payments are exact", async function () {
      const env = await loadFixture(attackFixture);
      const { escrow, escrowAddress, coopAdmin, feeRecipient, tree, batchId, cooperativeId } = env;
      await releasedSale(env, batchId);
      const members = tree.contributors;
      const read = async () => ({
        claimable: await Promise.all(members.map((c) => escrow.claimable(batchId, ETH, c.account, c.weight))),
        credited: await escrow.credited(ETH, feeRecipient.address),
        reserve: await escrow.reserveOf(cooperativeId, ETH),
        released: await escrow.released(batchId, ETH),
      });
      const before = await read();
      const balanceBefore = await ethers.provider.getBalance(escrowAddress);
      const forced = ethers.parseEther("5");

      await (await ethers.getContractFactory("ForceSend")).deploy(escrowAddress, { value: forced });
      expect(await ethers.provider.getBalance(escrowAddress)).to.equal(balanceBefore + forced);
      expect(await read()).to.deep.equal(before);

      let paid = 0n;
      for (const [i, c] of members.entries()) {
        await expect(
          escrow.claimFor(batchId, ETH, tree.wordOf(c.account), tree.proof(c.account)),
        ).to.changeEtherBalance(c.account, before.claimable[i]);
        paid += before.claimable[i];
        expect(await escrow.claimable(batchId, ETH, c.account, c.weight)).to.equal(0n);
        await expect(escrow.claimFor(batchId, ETH, tree.wordOf(c.account), tree.proof(c.account)))
          .to.be.revertedWithCustomError(escrow, "SaleEscrowNothingDue")
          .withArgs(c.account);
      }
      await expect(escrow.withdraw(ETH, feeRecipient.address)).to.changeEtherBalance(feeRecipient, before.credited);
      await expect(
        escrow.connect(coopAdmin).withdrawReserve(cooperativeId, ETH, coopAdmin.address, before.reserve + 1n),
      )
        .to.be.revertedWithCustomError(escrow, "SaleEscrowInsufficientReserve")
        .withArgs(cooperativeId, ETH, before.reserve, before.reserve + 1n);
      await escrow.connect(coopAdmin).withdrawReserve(cooperativeId, ETH, coopAdmin.address, before.reserve);
      // What stays is the forced ether plus the rounding dust: it belongs to no one.
      expect(await ethers.provider.getBalance(escrowAddress)).to.equal(forced + before.released - paid);
    });
  });

  describe("ERC-2771 sender", function () {
    context("when a caller appends an address to its calldata without going through the forwarder", function () {
      it("is not taken for that address", async function () {
        const env = await loadFixture(attackFixture);
        const { registry, escrow, batches, outsider, coopAdmin, deployer, alice, cooperativeId } = env;
        const registryAddress = await registry.getAddress();
        const spoof = (data: string, as: string) => ethers.concat([data, as]);

        const addMember = registry.interface.encodeFunctionData("addMember", [
          cooperativeId,
          outsider.address,
          referenceHash("spoof"),
        ]);
        await expect(outsider.sendTransaction({ to: registryAddress, data: spoof(addMember, coopAdmin.address) }))
          .to.be.revertedWithCustomError(registry, "CooperativeRegistryNotCooperativeAdmin")
          .withArgs(cooperativeId, outsider.address);
        expect(await registry.isMember(cooperativeId, outsider.address)).to.equal(false);

        const setFee = escrow.interface.encodeFunctionData("setFeeBps", [500]);
        await expect(outsider.sendTransaction({ to: await escrow.getAddress(), data: spoof(setFee, deployer.address) }))
          .to.be.revertedWithCustomError(escrow, "AccessControlUnauthorizedAccount")
          .withArgs(outsider.address, ethers.ZeroHash);

        const info = await batchInfo({ lotCode: "SPOOF-1" });
        const register = batches.interface.encodeFunctionData("registerBatch", [
          cooperativeId,
          info,
          (await treeOf(batches, [{ account: alice.address, weight: 1n }])).words,
        ]);
        await expect(outsider.sendTransaction({ to: await batches.getAddress(), data: spoof(register, alice.address) }))
          .to.be.revertedWithCustomError(batches, "BatchRegistryNotAuthorized")
          .withArgs(cooperativeId, outsider.address);
      });
    });

    describe("forwarded requests", function () {
      const FORWARD_REQUEST_TYPES = {
        ForwardRequest: [
          { name: "from", type: "address" },
          { name: "to", type: "address" },
          { name: "value", type: "uint256" },
          { name: "gas", type: "uint256" },
          { name: "nonce", type: "uint256" },
          { name: "deadline", type: "uint48" },
          { name: "data", type: "bytes" },
        ],
      };

      interface Request {
        from: string;
        to: string;
        value: bigint;
        gas: bigint;
        nonce: bigint;
        deadline: bigint;
        data: string;
      }

      async function domainOf(forwarder: Forwarder): Promise<TypedDataDomain> {
        return {
          name: "CoopTraceForwarder",
          version: "1",
          chainId: (await ethers.provider.getNetwork()).chainId,
          verifyingContract: await forwarder.getAddress(),
        };
      }

      /** Signs a request for `forwarder` (domain fields may be overridden) and returns it with its signature. */
      async function sign(
        signer: HardhatEthersSigner,
        forwarder: Forwarder,
        call: { to: string; data: string; value?: bigint; deadline?: bigint },
        domainOverrides: Partial<TypedDataDomain> = {},
      ) {
        const request: Request = {
          from: signer.address,
          to: call.to,
          value: call.value ?? 0n,
          gas: 1_000_000n,
          nonce: await forwarder.nonces(signer.address),
          deadline: call.deadline ?? BigInt(await time.latest()) + 3_600n,
          data: call.data,
        };
        const signature = await signer.signTypedData(
          { ...(await domainOf(forwarder)), ...domainOverrides },
          FORWARD_REQUEST_TYPES,
          request,
        );
        const { from, to, value, gas, deadline, data } = request;
        return { request, data: { from, to, value, gas, deadline, data, signature } };
      }

      /** The address the forwarder recovers from a signed request, as it would check it now. */
      async function recovered(forwarder: Forwarder, request: Request, signature: string): Promise<string> {
        const nonce = await forwarder.nonces(request.from);
        return ethers.verifyTypedData(
          await domainOf(forwarder),
          FORWARD_REQUEST_TYPES,
          { ...request, nonce },
          signature,
        );
      }

      async function registration(env: Env, lotCode: string) {
        const info = await batchInfo({ lotCode });
        const tree = await treeOf(env.batches, [
          { account: env.alice.address, weight: 3n },
          { account: env.bob.address, weight: 2n },
        ]);
        const data = env.batches.interface.encodeFunctionData("registerBatch", [env.cooperativeId, info, tree.words]);
        return { info, tree, data, batchId: await env.batches.batchIdOf(env.cooperativeId, word(lotCode)) };
      }

      it("makes the signer the sender while the relayer pays", async function () {
        const env = await loadFixture(attackFixture);
        const { forwarder, batches, alice, outsider: relayer, cooperativeId } = env;
        const { tree, data, batchId } = await registration(env, "FWD-1");
        const signed = await sign(alice, forwarder, { to: await batches.getAddress(), data });

        const tx = forwarder.connect(relayer).execute(signed.data);
        await expect(tx)
          .to.emit(batches, "BatchRegistered")
          .withArgs(batchId, cooperativeId, alice.address, anyValue, anyValue, tree.root, tree.totalWeight);
        await expect(tx).to.emit(forwarder, "ExecutedForwardRequest").withArgs(alice.address, 0n, true);
        await expect(tx).to.changeEtherBalance(alice, 0n);
        expect((await batches.getBatch(batchId)).contributorsRoot).to.equal(tree.root);
      });

      it("refuses a replayed request", async function () {
        const env = await loadFixture(attackFixture);
        const { forwarder, batches, alice, outsider: relayer } = env;
        const { data } = await registration(env, "FWD-2");
        const signed = await sign(alice, forwarder, { to: await batches.getAddress(), data });
        await forwarder.connect(relayer).execute(signed.data);

        // The nonce was used: the same signature now recovers to another address.
        const signer = await recovered(forwarder, signed.request, signed.data.signature);
        expect(signer).to.not.equal(alice.address);
        await expect(forwarder.connect(relayer).execute(signed.data))
          .to.be.revertedWithCustomError(forwarder, "ERC2771ForwarderInvalidSigner")
          .withArgs(signer, alice.address);
      });

      it("refuses an expired request", async function () {
        const env = await loadFixture(attackFixture);
        const { forwarder, batches, alice, outsider: relayer } = env;
        const { data } = await registration(env, "FWD-3");
        const deadline = BigInt(await time.latest());
        const signed = await sign(alice, forwarder, { to: await batches.getAddress(), data, deadline });

        await expect(forwarder.connect(relayer).execute(signed.data))
          .to.be.revertedWithCustomError(forwarder, "ERC2771ForwarderExpiredRequest")
          .withArgs(deadline);
      });

      for (const [what, overrides] of [
        ["another chain id", { chainId: 1n }],
        ["another verifying contract", { verifyingContract: "0x000000000000000000000000000000000000dEaD" }],
      ] as const) {
        it(`refuses a request signed for ${what}`, async function () {
          const env = await loadFixture(attackFixture);
          const { forwarder, batches, alice, outsider: relayer } = env;
          const { data, batchId } = await registration(env, "FWD-4");
          const signed = await sign(alice, forwarder, { to: await batches.getAddress(), data }, overrides);

          const signer = await recovered(forwarder, signed.request, signed.data.signature);
          expect(signer).to.not.equal(alice.address);
          await expect(forwarder.connect(relayer).execute(signed.data))
            .to.be.revertedWithCustomError(forwarder, "ERC2771ForwarderInvalidSigner")
            .withArgs(signer, alice.address);
          expect(await batches.exists(batchId)).to.equal(false);
        });
      }

      it("refuses a request to a target that does not trust the forwarder", async function () {
        const env = await loadFixture(attackFixture);
        const { forwarder, batches, alice, outsider: relayer, stablecoin } = env;
        // A forwarder of the attacker's own: our contracts do not trust it.
        const rogue = await (await ethers.getContractFactory("Forwarder")).deploy();
        const { data } = await registration(env, "FWD-5");
        const batchesAddress = await batches.getAddress();
        const signed = await sign(alice, rogue, { to: batchesAddress, data });
        await expect(rogue.connect(relayer).execute(signed.data))
          .to.be.revertedWithCustomError(rogue, "ERC2771UntrustfulTarget")
          .withArgs(batchesAddress, await rogue.getAddress());

        // Nor does our forwarder relay to a contract that does not know it (a token).
        const stablecoinAddress = await stablecoin.getAddress();
        const transfer = stablecoin.interface.encodeFunctionData("transfer", [relayer.address, 1n]);
        const toToken = await sign(alice, forwarder, { to: stablecoinAddress, data: transfer });
        await expect(forwarder.connect(relayer).execute(toToken.data))
          .to.be.revertedWithCustomError(forwarder, "ERC2771UntrustfulTarget")
          .withArgs(stablecoinAddress, await forwarder.getAddress());
      });

      it("holds no role, and no funds after relaying a payment", async function () {
        const env = await loadFixture(attackFixture);
        const { forwarder, registry, escrow, buyer, outsider: relayer, batchId, cooperativeId } = env;
        const forwarderAddress = await forwarder.getAddress();
        for (const role of [
          await registry.DEFAULT_ADMIN_ROLE(),
          await registry.REGISTRAR_ROLE(),
          await registry.CERTIFIER_ROLE(),
          await registry.ARBITER_ROLE(),
          await registry.DRAWER_ROLE(),
        ]) {
          expect(await registry.hasRole(role, forwarderAddress)).to.equal(false);
        }
        expect(await registry.defaultAdmin()).to.not.equal(forwarderAddress);
        expect(await registry.isCooperativeAdmin(cooperativeId, forwarderAddress)).to.equal(false);
        expect(await registry.isMember(cooperativeId, forwarderAddress)).to.equal(false);

        const saleId = await createSale(env, batchId, ETH, PRICE, buyer.address);
        const fund = escrow.interface.encodeFunctionData("fund", [saleId]);
        const signed = await sign(buyer, forwarder, { to: await escrow.getAddress(), data: fund, value: PRICE });
        const tx = forwarder.connect(relayer).execute(signed.data, { value: PRICE });
        await expect(tx).to.emit(escrow, "SaleFunded").withArgs(saleId, buyer.address, ETH, PRICE, anyValue);
        await expect(tx).to.changeEtherBalances([relayer, forwarder, escrow, buyer], [-PRICE, 0n, PRICE, 0n]);
        expect((await escrow.getSale(saleId)).buyer).to.equal(buyer.address);
        expect(await ethers.provider.getBalance(forwarderAddress)).to.equal(0n);
      });
    });
  });

  describe("access control", function () {
    /** attackFixture plus a second cooperative, a certification, a funded, a disputed and a released sale. */
    async function rolesFixture() {
      const env = await attackFixture();
      const { registry, escrow, batches, registrar, certifier, coopAdmin, buyer, batchId } = env;
      const otherAdmin = (await ethers.getSigners())[12];
      await registry
        .connect(registrar)
        .registerCooperative(
          "Cooperative Aït Ouallal Dates",
          "Errachidia",
          "ODCO-ERR-2021-0107",
          otherAdmin.address,
          500,
          false,
        );
      await batches
        .connect(certifier)
        .certify(batchId, "AOP Rose de Kelaat M'Gouna-Dades", ethers.id("cert"), 2n ** 40n);
      const funded = await createSale(env, batchId, ETH, PRICE, buyer.address);
      await escrow.connect(buyer).fund(funded, { value: PRICE });
      const disputed = await createSale(env, batchId, ETH, PRICE, buyer.address);
      await escrow.connect(buyer).fund(disputed, { value: PRICE });
      await escrow.connect(coopAdmin).markShipped(disputed, ethers.id("waybill"));
      await escrow.connect(buyer).openDispute(disputed, ethers.id("damaged"));
      await releasedSale(env, batchId);
      // The escrow contract itself, to show that DRAWER_ROLE passes the check.
      const escrowSigner = await ethers.getImpersonatedSigner(env.escrowAddress);
      await setBalance(
        env.escrowAddress,
        ethers.parseEther("1") + (await ethers.provider.getBalance(env.escrowAddress)),
      );
      return { ...env, otherAdmin, funded, disputed, escrowSigner };
    }
    type RolesEnv = Awaited<ReturnType<typeof rolesFixture>>;

    const CALLERS = [
      "outsider",
      "member",
      "buyer",
      "certifier",
      "arbiter",
      "registrar",
      "admin of another cooperative",
    ] as const;
    type Caller = (typeof CALLERS)[number];

    function signerOf(env: RolesEnv, caller: Caller): HardhatEthersSigner {
      const map: Record<Caller, HardhatEthersSigner> = {
        outsider: env.outsider,
        member: env.alice,
        buyer: env.buyer,
        certifier: env.certifier,
        arbiter: env.arbiter,
        registrar: env.registrar,
        "admin of another cooperative": env.otherAdmin,
      };
      return map[caller];
    }

    interface Row {
      fn: string;
      /** The callers in CALLERS that hold the right, so are not tested as wrong ones. */
      allowed?: Caller[];
      /** Who may call it: the call must succeed for this one (after `prepare`, if any). */
      rightful: (env: RolesEnv) => HardhatEthersSigner;
      prepare?: (env: RolesEnv) => Promise<unknown>;
      send: (env: RolesEnv, as: HardhatEthersSigner) => Promise<ContractTransactionResponse>;
      error: (env: RolesEnv, as: HardhatEthersSigner) => { contract: BaseContract; name: string; args: unknown[] };
    }

    const platformAdmin = (env: RolesEnv) => env.deployer;
    const coopAdmin = (env: RolesEnv) => env.coopAdmin;
    const unauthorized =
      (contract: (env: RolesEnv) => BaseContract, role: (env: RolesEnv) => Promise<string> | string) =>
      (env: RolesEnv, as: HardhatEthersSigner) => ({
        contract: contract(env),
        name: "AccessControlUnauthorizedAccount",
        args: [as.address, role(env)],
      });
    const notCoopAdmin = (contract: (env: RolesEnv) => BaseContract) => (env: RolesEnv, as: HardhatEthersSigner) => ({
      contract: contract(env),
      name: "CooperativeRegistryNotCooperativeAdmin",
      args: [env.cooperativeId, as.address],
    });
    const registryOf = (env: RolesEnv) => env.registry;
    const batchesOf = (env: RolesEnv) => env.batches;
    const escrowOf = (env: RolesEnv) => env.escrow;
    const notDrawer = (env: RolesEnv, as: HardhatEthersSigner) => ({
      contract: env.batches as BaseContract,
      name: "BatchRegistryNotDrawer",
      args: [as.address],
    });

    const ROWS: Row[] = [
      {
        fn: "registerCooperative",
        allowed: ["registrar"],
        rightful: (env) => env.registrar,
        send: (env, as) =>
          env.registry.connect(as).registerCooperative("Intruder Coop", "Nowhere", "FAKE-0001", as.address, 0, false),
        error: unauthorized(registryOf, (env) => env.registry.REGISTRAR_ROLE()),
      },
      {
        fn: "certify",
        allowed: ["certifier"],
        rightful: (env) => env.certifier,
        send: (env, as) => env.batches.connect(as).certify(env.batchId, "organic", ethers.id("fake"), 2n ** 40n),
        error: unauthorized(batchesOf, (env) => env.registry.CERTIFIER_ROLE()),
      },
      {
        fn: "revokeCertification",
        allowed: ["certifier"],
        rightful: (env) => env.certifier,
        send: (env, as) => env.batches.connect(as).revokeCertification(1n, ethers.id("fake")),
        error: unauthorized(batchesOf, (env) => env.registry.CERTIFIER_ROLE()),
      },
      {
        fn: "resolveDispute",
        allowed: ["arbiter"],
        rightful: (env) => env.arbiter,
        send: (env, as) => env.escrow.connect(as).resolveDispute(env.disputed, 0, ethers.id("ruling")),
        error: unauthorized(escrowOf, (env) => env.registry.ARBITER_ROLE()),
      },
      {
        fn: "drawForSale",
        rightful: (env) => env.escrowSigner,
        send: (env, as) => env.batches.connect(as).drawForSale(env.batchId, 1n),
        error: notDrawer,
      },
      {
        fn: "restoreForSale",
        rightful: (env) => env.escrowSigner,
        send: (env, as) => env.batches.connect(as).restoreForSale(env.batchId, 1n),
        error: notDrawer,
      },
      {
        fn: "setTokenAllowed",
        rightful: platformAdmin,
        send: (env, as) => env.escrow.connect(as).setTokenAllowed(env.stablecoin, false),
        error: unauthorized(escrowOf, () => ethers.ZeroHash),
      },
      {
        fn: "setFeeBps",
        rightful: platformAdmin,
        send: (env, as) => env.escrow.connect(as).setFeeBps(500),
        error: unauthorized(escrowOf, () => ethers.ZeroHash),
      },
      {
        fn: "setFeeRecipient",
        rightful: platformAdmin,
        send: (env, as) => env.escrow.connect(as).setFeeRecipient(as.address),
        error: unauthorized(escrowOf, () => ethers.ZeroHash),
      },
      {
        fn: "pause",
        rightful: platformAdmin,
        send: (env, as) => env.escrow.connect(as).pause(),
        error: unauthorized(escrowOf, () => ethers.ZeroHash),
      },
      {
        fn: "unpause",
        rightful: platformAdmin,
        prepare: (env) => env.escrow.connect(env.deployer).pause(),
        send: (env, as) => env.escrow.connect(as).unpause(),
        error: unauthorized(escrowOf, () => ethers.ZeroHash),
      },
      {
        fn: "grantRole",
        rightful: platformAdmin,
        send: async (env, as) => env.registry.connect(as).grantRole(await env.registry.ARBITER_ROLE(), as.address),
        error: unauthorized(registryOf, () => ethers.ZeroHash),
      },
      {
        fn: "addMember",
        rightful: coopAdmin,
        send: (env, as) => env.registry.connect(as).addMember(env.cooperativeId, as.address, referenceHash("intruder")),
        error: notCoopAdmin(registryOf),
      },
      {
        fn: "removeMember",
        rightful: coopAdmin,
        send: (env, as) => env.registry.connect(as).removeMember(env.cooperativeId, env.bob.address),
        error: notCoopAdmin(registryOf),
      },
      {
        fn: "setReserveRate",
        rightful: coopAdmin,
        send: (env, as) => env.registry.connect(as).setReserveRate(env.cooperativeId, 5_000),
        error: notCoopAdmin(registryOf),
      },
      {
        fn: "setCooperativeAdmin",
        allowed: ["registrar"],
        rightful: coopAdmin,
        send: (env, as) => env.registry.connect(as).setCooperativeAdmin(env.cooperativeId, as.address),
        error: notCoopAdmin(registryOf),
      },
      {
        fn: "createSale",
        rightful: coopAdmin,
        send: (env, as) => env.escrow.connect(as).createSale(env.batchId, 1n, ETH, PRICE, ETH, DAY, DAY),
        error: (env, as) => ({ contract: env.escrow, name: "SaleEscrowNotSeller", args: [4n, as.address] }),
      },
      {
        fn: "markShipped",
        rightful: coopAdmin,
        send: (env, as) => env.escrow.connect(as).markShipped(env.funded, ethers.id("fake waybill")),
        error: (env, as) => ({ contract: env.escrow, name: "SaleEscrowNotSeller", args: [env.funded, as.address] }),
      },
      {
        fn: "withdrawReserve",
        rightful: coopAdmin,
        send: (env, as) => env.escrow.connect(as).withdrawReserve(env.cooperativeId, ETH, as.address, 1n),
        error: notCoopAdmin(escrowOf),
      },
    ];

    for (const row of ROWS) {
      describe(row.fn, function () {
        for (const caller of CALLERS.filter((c) => !(row.allowed ?? []).includes(c))) {
          it(`reverts when called by the ${caller}`, async function () {
            const env = await loadFixture(rolesFixture);
            const as = signerOf(env, caller);
            const { contract, name, args } = row.error(env, as);
            await expect(row.send(env, as))
              .to.be.revertedWithCustomError(contract, name)
              .withArgs(...(await Promise.all(args)));
          });
        }

        it("lets the rightful caller through", async function () {
          const env = await loadFixture(rolesFixture);
          await row.prepare?.(env);
          await expect(row.send(env, row.rightful(env))).to.not.be.reverted;
        });
      });
    }
  });
});
