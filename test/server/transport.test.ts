/**
 * The gateway's lower layers that replace parts of ethers for speed: the native Keccak-256 it
 * registers in ethers, native secp256k1 signatures for custody, its own transaction serialisation
 * and its JSON-RPC transport over Node's HTTP client. Each must give exactly what ethers' own would.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import fc from "fast-check";
import {
  computeAddress,
  Interface,
  ParamType,
  ZeroAddress,
  ZeroHash,
  SigningKey,
  Wallet,
  getAddress,
  getBytes,
  hexlify,
  keccak256,
  Transaction,
} from "ethers";
import { keccak256Bytes, nativeKeccak256, nativeKeccakAvailable } from "../../server/chain/keccak";
import { bytesToHex, keccak256 as viemKeccak256 } from "viem";
import { createStockProvider } from "../../scripts/ethers-provider";
import { createChainClient, RpcTransportError } from "../../server/chain/client";
import { signRelayerTransaction } from "../../server/relayer/txsign";
import { decodeRevert } from "../../server/relayer/nodeErrors";
import { encodeCall } from "../../server/chain/calldata";
import { decodeLog, type IndexedContract, type Json } from "../../server/index/decode";
import {
  BatchRegistry__factory,
  CooperativeRegistry__factory,
  Forwarder__factory,
  SaleEscrow__factory,
} from "../../typechain-types";
import { addressOf, nativeSecp256k1Available, signDigest } from "../../server/chain/secp256k1";
import { startTestChain, type TestChain } from "../helpers/chain";

describe("gateway crypto and transport layers", function () {
  describe("native keccak256", function () {
    it("equals @noble/hashes' keccak256 (ethers' default) on random inputs up to 64 kB", function () {
      // The npm package ships the Linux x64 build: here it must load (elsewhere ethers keeps its own).
      expect(nativeKeccakAvailable).to.equal(true);
      fc.assert(
        fc.property(
          fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ minLength: 1000, maxLength: 65_536 })),
          (data) => {
            expect(hexlify(nativeKeccak256(data))).to.equal(hexlify(keccak256._(data)));
          },
        ),
        { numRuns: 300, seed: 20261129 },
      );
      // Views into a larger buffer hash only their own bytes.
      const big = new Uint8Array(100).map((_, i) => i);
      const view = big.subarray(10, 50);
      expect(hexlify(nativeKeccak256(view))).to.equal(hexlify(keccak256._(view.slice())));
    });

    it("keccak256Bytes (the gateway's) equals viem's keccak256", function () {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 30_000 }), (data) => {
          expect(bytesToHex(keccak256Bytes(data))).to.equal(viemKeccak256(data));
        }),
        { numRuns: 100, seed: 20261204 },
      );
    });
  });

  describe("native secp256k1", function () {
    it("signs exactly as ethers' SigningKey and derives the same addresses, on random keys and digests", async function () {
      expect(nativeSecp256k1Available).to.equal(true); // the npm package ships the Linux x64 build
      const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
      await fc.assert(
        fc.asyncProperty(
          fc.bigInt({ min: 1n, max: n - 1n }),
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          async (k, digest) => {
            const key = Buffer.from(k.toString(16).padStart(64, "0"), "hex");
            const ethersKey = new SigningKey(key);
            expect((await signDigest(key, digest)).serialized).to.equal(ethersKey.sign(digest).serialized);
            expect(addressOf(key)).to.equal(computeAddress(ethersKey.publicKey));
          },
        ),
        { numRuns: 200, seed: 1129 },
      );
    });

    it("refuses what is not a key or not a digest", async function () {
      expect(() => addressOf(Buffer.alloc(32))).to.throw();
      expect(await signDigest(Buffer.alloc(32, 0xff), new Uint8Array(32)).catch((e) => e)).to.be.instanceOf(Error);
      expect(String(await signDigest(Buffer.alloc(32, 1), new Uint8Array(31)).catch((e) => e))).to.match(/32 bytes/);
    });
  });

  describe("calldata with viem", function () {
    interface Param {
      type: string;
      name?: string;
      components?: readonly Param[];
    }
    /** Random values of an ABI parameter, in the form both encoders take. */
    function valueOf(param: Param): fc.Arbitrary<unknown> {
      const { type } = param;
      const array = /^(.*)\[(\d*)\]$/.exec(type);
      if (array) {
        const item = valueOf({ ...param, type: array[1] });
        const n = array[2] === "" ? undefined : Number(array[2]);
        return fc.array(item, n === undefined ? { maxLength: 4 } : { minLength: n, maxLength: n });
      }
      if (type === "tuple") {
        return fc.record(Object.fromEntries(param.components!.map((c) => [c.name!, valueOf(c)])));
      }
      if (type === "address") return fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => getAddress(hexlify(b)));
      if (type === "bool") return fc.boolean();
      if (type === "string") return fc.string({ unit: "grapheme", maxLength: 40 });
      if (type === "bytes") return fc.uint8Array({ maxLength: 100 }).map(hexlify);
      const fixed = /^bytes(\d+)$/.exec(type);
      if (fixed) return fc.uint8Array({ minLength: Number(fixed[1]), maxLength: Number(fixed[1]) }).map(hexlify);
      const int = /^(u?)int(\d*)$/.exec(type);
      if (int) {
        const bits = BigInt(int[2] || "256");
        return int[1] === "u"
          ? fc.bigInt({ min: 0n, max: (1n << bits) - 1n })
          : fc.bigInt({ min: -(1n << (bits - 1n)), max: (1n << (bits - 1n)) - 1n });
      }
      throw new Error(`no generator for ${type}`);
    }

    const contracts = {
      BatchRegistry: BatchRegistry__factory,
      CooperativeRegistry: CooperativeRegistry__factory,
      SaleEscrow: SaleEscrow__factory,
      Forwarder: Forwarder__factory,
    };
    for (const [name, factory] of Object.entries(contracts)) {
      it(`gives ethers' bytes for every function of ${name}, on random arguments`, function () {
        const iface = factory.createInterface() as unknown as Interface;
        const abi = factory.abi as readonly { type: string; name?: string; inputs?: readonly Param[] }[];
        const functions = abi.filter((f) => f.type === "function");
        const names = functions.map((f) => f.name!);
        let checked = 0;
        for (const fn of functions) {
          if (names.filter((n) => n === fn.name).length > 1) continue; // overloads: not used by the gateway
          fc.assert(
            fc.property(fc.tuple(...(fn.inputs ?? []).map(valueOf)), (args) => {
              expect(encodeCall(factory.abi, fn.name!, args)).to.equal(iface.encodeFunctionData(fn.name!, args));
            }),
            { numRuns: 15, seed: 4242 },
          );
          checked++;
        }
        expect(checked).to.be.greaterThan(3);
      });
    }

    /** The stored form as the decoder made it with ethers before (the reference for viem's). */
    function reference(type: ParamType, value: unknown): Json {
      if (type.isTuple()) {
        const values = value as readonly unknown[];
        return Object.fromEntries(type.components.map((c, i) => [c.name, reference(c, values[i])]));
      }
      if (type.isArray()) return (value as readonly unknown[]).map((v) => reference(type.arrayChildren, v));
      const base = type.baseType;
      if (base.startsWith("uint") || base.startsWith("int")) {
        const bits = Number(base.replace(/^u?int/, "") || "256");
        return bits <= 32 ? Number(value) : BigInt(value as bigint).toString();
      }
      if (base === "bool") return Boolean(value);
      if (base.startsWith("bytes")) return String(value).toLowerCase();
      return String(value);
    }

    const indexed = {
      CooperativeRegistry: CooperativeRegistry__factory,
      BatchRegistry: BatchRegistry__factory,
      SaleEscrow: SaleEscrow__factory,
    };
    let logCount = 0;
    /** An event's inputs as the JSON ABI states them (ethers' ParamType keeps array items elsewhere). */
    const jsonInputs = (abi: readonly unknown[], name: string) =>
      (abi as readonly { type: string; name?: string; inputs?: readonly Param[] }[]).find(
        (item) => item.type === "event" && item.name === name,
      )!.inputs!;
    for (const [name, factory] of Object.entries(indexed)) {
      it(`decodes every event of ${name} as ethers did, on random events`, function () {
        const iface = factory.createInterface() as unknown as Interface;
        let n = 0;
        iface.forEachEvent((event) => {
          n++;
          fc.assert(
            fc.property(fc.tuple(...jsonInputs(factory.abi, event.name).map(valueOf)), fc.nat(), (values, i) => {
              const { data, topics } = iface.encodeEventLog(event, values);
              const log = {
                topics,
                data,
                // A new position each time: decodeLog remembers logs by block hash and index.
                blockHash: ZeroHash.slice(0, -8) + (++logCount).toString(16).padStart(8, "0"),
                index: i,
                transactionHash: ZeroHash,
                blockNumber: 1,
                transactionIndex: 0,
                address: ZeroAddress,
              } as unknown as Parameters<typeof decodeLog>[0];
              const decoded = decodeLog(log, name as IndexedContract, 0)!;
              expect(decoded.name).to.equal(event.name);
              const expected = iface.decodeEventLog(event, data, topics);
              expect(decoded.args).to.deep.equal(
                Object.fromEntries(event.inputs.map((input, k) => [input.name, reference(input, expected[k])])),
              );
            }),
            { numRuns: 15, seed: 2911 },
          );
        });
        expect(n).to.be.greaterThan(3);
      });
    }

    it("decodes every custom error of the contracts as the ethers decoder did (names, signatures, JSON args)", function () {
      const jsonSafe = (v: unknown): unknown =>
        typeof v === "bigint" ? v.toString() : Array.isArray(v) ? v.map(jsonSafe) : v;
      let n = 0;
      for (const factory of Object.values(contracts)) {
        const iface = factory.createInterface() as unknown as Interface;
        iface.forEachError((fragment) => {
          n++;
          const inputs = (factory.abi as readonly { type: string; name?: string; inputs?: readonly Param[] }[]).find(
            (item) => item.type === "error" && item.name === fragment.name,
          )!.inputs!;
          fc.assert(
            fc.property(fc.tuple(...inputs.map(valueOf)), (values) => {
              const data = iface.encodeErrorResult(fragment, values);
              // A lot code, product code or unit is a padded word, shown as its text (zeros dropped).
              const shown = iface
                .decodeErrorResult(fragment, data)
                .toArray(true)
                .map((v: unknown, i: number) =>
                  inputs[i].type === "bytes32" && ["lotCode", "productCode", "unit"].includes(inputs[i].name ?? "")
                    ? new TextDecoder().decode(getBytes(v as string)).replace(/\0+$/, "")
                    : v,
                );
              expect(decodeRevert(data)).to.deep.equal({
                name: fragment.name,
                signature: fragment.format("sighash"),
                args: jsonSafe(shown),
              });
            }),
            { numRuns: 5, seed: 1204 },
          );
        });
      }
      expect(n).to.be.greaterThan(10);
    });

    it("refuses a function the ABI does not have", function () {
      expect(() => encodeCall(BatchRegistry__factory.abi, "noSuchFunction", [])).to.throw(/0 functions/);
    });
  });

  describe("relayer transaction signing", function () {
    const wallet = new Wallet("0x" + "5a".repeat(32));
    const key = Buffer.from(wallet.privateKey.slice(2), "hex");
    const uint = (bits: number) => fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n });
    const tx = fc.record({
      type: fc.constantFrom(0 as const, 2 as const),
      chainId: fc.oneof(fc.constantFrom(1n, 31337n, 11155111n), fc.bigInt({ min: 1n, max: (1n << 60n) - 1n })),
      nonce: fc.nat({ max: 2 ** 40 }),
      to: fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => getAddress(hexlify(b))),
      data: fc
        .oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 20_000, maxLength: 30_000 }))
        .map(hexlify),
      value: fc.oneof(fc.constant(0n), uint(128)),
      gasLimit: uint(25),
      fee: uint(64),
      tip: uint(40),
    });

    it("gives the bytes and hash ethers' Wallet.signTransaction gives, for types 0 and 2", async function () {
      await fc.assert(
        fc.asyncProperty(tx, async (t) => {
          const fields =
            t.type === 2
              ? { ...t, maxFeePerGas: t.fee + t.tip, maxPriorityFeePerGas: t.tip }
              : { ...t, gasPrice: t.fee };
          const ours = await signRelayerTransaction(key, fields);
          const theirs = await wallet.signTransaction({
            type: t.type,
            chainId: t.chainId,
            nonce: t.nonce,
            to: t.to,
            data: t.data,
            value: t.value,
            gasLimit: t.gasLimit,
            ...(t.type === 2 ? { maxFeePerGas: t.fee + t.tip, maxPriorityFeePerGas: t.tip } : { gasPrice: t.fee }),
          });
          expect(ours.raw).to.equal(theirs);
          const parsed = Transaction.from(ours.raw);
          expect(ours.hash).to.equal(parsed.hash);
          expect(parsed.from).to.equal(wallet.address);
        }),
        { numRuns: 60, seed: 29112026 },
      );
    });

    it("refuses malformed fields instead of signing something else", async function () {
      const base = {
        type: 2 as const,
        chainId: 1n,
        nonce: 0,
        to: wallet.address,
        data: "0x",
        value: 0n,
        gasLimit: 21_000n,
        maxFeePerGas: 2n,
        maxPriorityFeePerGas: 1n,
      };
      const refusal = async (fields: Record<string, unknown>) =>
        String(await signRelayerTransaction(key, { ...base, ...fields } as never).catch((e) => e));
      expect(await refusal({ data: "0xabc" })).to.match(/data must be hex/);
      expect(await refusal({ data: "0xzz" })).to.match(/data must be hex/);
      expect(await refusal({ to: "0x1234" })).to.match(/to must be hex/);
      expect(await refusal({ value: -1n })).to.match(/value must be a non-negative/);
      expect(await refusal({ maxFeePerGas: null })).to.match(/maxFeePerGas/);
    });
  });

  describe("JSON-RPC over Node's HTTP client (server/chain/client.ts)", function () {
    let tc: TestChain;
    before(async function () {
      this.timeout(60_000);
      tc = await startTestChain();
    });
    after(async function () {
      await tc?.stop();
    });

    it("answers like ethers' stock provider: blocks, balances, logs, calls and revert data", async function () {
      const stock = createStockProvider(tc.chain.rpcUrl, tc.chain.chainId);
      const lean = createChainClient(tc.chain.rpcUrl, tc.chain.chainId);
      try {
        const head = await stock.getBlockNumber();
        expect(await lean.getBlockNumber()).to.equal(head);
        const [ours, theirs] = [(await lean.getBlock(head))!, (await stock.getBlock(head))!];
        expect(ours).to.deep.equal({
          number: theirs.number,
          hash: theirs.hash,
          parentHash: theirs.parentHash,
          timestamp: theirs.timestamp,
          baseFeePerGas: theirs.baseFeePerGas,
        });
        expect(await lean.getBalance(tc.wallets[3].address)).to.equal(await stock.getBalance(tc.wallets[3].address));
        const filter = { address: await tc.deployed.registry.getAddress(), fromBlock: 0, toBlock: head };
        const [a, b] = [await lean.getLogs(filter), await stock.getLogs(filter)];
        expect(a.length).to.be.greaterThan(0);
        expect(a).to.deep.equal(
          b.map((l) => ({
            address: l.address,
            topics: [...l.topics],
            data: l.data,
            blockNumber: l.blockNumber,
            blockHash: l.blockHash,
            transactionHash: l.transactionHash,
            transactionIndex: l.transactionIndex,
            index: l.index,
            removed: l.removed,
          })),
        );
        // Fee data as ethers derived it.
        const [fa, fb] = [await lean.getFeeData(), await stock.getFeeData()];
        expect(fa.maxPriorityFeePerGas).to.equal(fb.maxPriorityFeePerGas);
        expect(fa.maxFeePerGas).to.equal(fb.maxFeePerGas);
        // A revert comes back as CALL_EXCEPTION (ethers' word) with the same data either way.
        const registry = tc.deployed.registry;
        const call = {
          to: await registry.getAddress(),
          data: registry.interface.encodeFunctionData("getCooperative", [999_999]),
        };
        const errors = await Promise.all([lean.call(call).catch((e) => e), stock.call(call).catch((e) => e)]);
        expect(errors[0].code).to.equal("CALL_EXCEPTION");
        expect(errors[0].data).to.equal(errors[1].data);
      } finally {
        lean.destroy();
        stock.destroy();
      }
    });

    it("fails with a clear transport error when nothing listens, or the answer is not JSON-RPC", async function () {
      const server: Server = createServer((_req, res) => {
        res.writeHead(502, { "content-type": "text/html" });
        res.end("<h1>bad gateway</h1>");
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      const port = (server.address() as AddressInfo).port;
      const html = createChainClient(`http://127.0.0.1:${port}/`, 31337);
      try {
        const err = await html.getBlockNumber().catch((e) => e);
        expect(err).to.be.instanceOf(RpcTransportError);
        expect(err.code).to.equal("SERVER_ERROR");
        expect(err.message).to.include("HTTP 502");
      } finally {
        html.destroy();
        await new Promise((r) => server.close(r));
      }
      const nobody = createChainClient(`http://127.0.0.1:${port}/`, 31337);
      try {
        const err = await nobody.getBlockNumber().catch((e) => e);
        expect(err).to.be.instanceOf(RpcTransportError);
        expect(err.code).to.equal("NETWORK_ERROR");
        expect(err.message).to.include("ECONNREFUSED");
      } finally {
        nobody.destroy();
      }
    });
  });
});
