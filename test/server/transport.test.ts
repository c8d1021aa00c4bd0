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
  type Log,
  SigningKey,
  Wallet,
  getAddress,
  hexlify,
  keccak256,
  Transaction,
  TypedDataEncoder,
} from "ethers";
import { nativeKeccak256, nativeKeccakAvailable, useNativeKeccak } from "../../server/chain/keccak";
import { createProvider, createStockProvider, RpcTransportError } from "../../scripts/ethers-provider";
import { signRelayerTransaction } from "../../server/relayer/txsign";
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

    it("once registered, ethers' checksums, typed-data hashes and transaction hashes are unchanged", async function () {
      const wallet = new Wallet("0x" + "11".repeat(32));
      const domain = { name: "CoopTraceForwarder", version: "1", chainId: 31337, verifyingContract: wallet.address };
      const types = {
        Note: [
          { name: "from", type: "address" },
          { name: "data", type: "bytes" },
        ],
      };
      const value = { from: wallet.address, data: "0x" + "ab".repeat(700) };
      const tx = {
        type: 2,
        chainId: 31337,
        nonce: 7,
        to: wallet.address,
        data: "0x" + "cd".repeat(26_000),
        gasLimit: 9_000_000,
        maxFeePerGas: 10n ** 9n,
        maxPriorityFeePerGas: 1n,
      };
      // ethers' own implementation first (whatever an earlier test registered), then the native one.
      keccak256.register(keccak256._);
      const before = {
        address: getAddress(wallet.address.toLowerCase()),
        typed: TypedDataEncoder.hash(domain, types, value),
        raw: await wallet.signTransaction(tx),
      };
      keccak256.register(nativeKeccak256);
      expect(getAddress(wallet.address.toLowerCase())).to.equal(before.address);
      expect(TypedDataEncoder.hash(domain, types, value)).to.equal(before.typed);
      const raw = await wallet.signTransaction(tx);
      expect(raw).to.equal(before.raw);
      expect(Transaction.from(raw).from).to.equal(wallet.address);
      expect(keccak256(raw)).to.equal(hexlify(keccak256._(Buffer.from(raw.slice(2), "hex"))));
      expect(useNativeKeccak()).to.equal(true); // as the gateway does; idempotent
      expect(keccak256(raw)).to.equal(Transaction.from(raw).hash);
    });
  });

  describe("native secp256k1", function () {
    it("signs exactly as ethers' SigningKey and derives the same addresses, on random keys and digests", function () {
      expect(nativeSecp256k1Available).to.equal(true); // the npm package ships the Linux x64 build
      const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
      fc.assert(
        fc.property(
          fc.bigInt({ min: 1n, max: n - 1n }),
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          (k, digest) => {
            const key = Buffer.from(k.toString(16).padStart(64, "0"), "hex");
            const ethersKey = new SigningKey(key);
            expect(signDigest(key, digest).serialized).to.equal(ethersKey.sign(digest).serialized);
            expect(addressOf(key)).to.equal(computeAddress(ethersKey.publicKey));
          },
        ),
        { numRuns: 200, seed: 1129 },
      );
    });

    it("refuses what is not a key or not a digest", function () {
      expect(() => addressOf(Buffer.alloc(32))).to.throw();
      expect(() => signDigest(Buffer.alloc(32, 0xff), new Uint8Array(32))).to.throw();
      expect(() => signDigest(Buffer.alloc(32, 1), new Uint8Array(31))).to.throw(/32 bytes/);
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
              } as unknown as Log;
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

    it("refuses a function the ABI does not have", function () {
      expect(() => encodeCall(BatchRegistry__factory.abi, "noSuchFunction", [])).to.throw(/0 functions/);
    });
  });

  describe("relayer transaction signing", function () {
    const wallet = new Wallet("0x" + "5a".repeat(32));
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
          const ours = signRelayerTransaction(wallet.signingKey, fields);
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

    it("refuses malformed fields instead of signing something else", function () {
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
      expect(() => signRelayerTransaction(wallet.signingKey, { ...base, data: "0xabc" })).to.throw(/data must be hex/);
      expect(() => signRelayerTransaction(wallet.signingKey, { ...base, data: "0xzz" })).to.throw(/data must be hex/);
      expect(() => signRelayerTransaction(wallet.signingKey, { ...base, to: "0x1234" })).to.throw(/to must be hex/);
      expect(() => signRelayerTransaction(wallet.signingKey, { ...base, value: -1n })).to.throw(
        /value must be a non-negative/,
      );
      expect(() => signRelayerTransaction(wallet.signingKey, { ...base, maxFeePerGas: null })).to.throw(/maxFeePerGas/);
    });
  });

  describe("JSON-RPC over Node's HTTP client", function () {
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
      const lean = createProvider(tc.chain.rpcUrl, tc.chain.chainId);
      try {
        const head = await stock.getBlockNumber();
        expect(await lean.getBlockNumber()).to.equal(head);
        expect((await lean.getBlock(head))!.toJSON()).to.deep.equal((await stock.getBlock(head))!.toJSON());
        expect(await lean.getBalance(tc.wallets[3].address)).to.equal(await stock.getBalance(tc.wallets[3].address));
        const filter = { address: await tc.deployed.registry.getAddress(), fromBlock: 0, toBlock: head };
        const [a, b] = [await lean.getLogs(filter), await stock.getLogs(filter)];
        expect(a.length).to.be.greaterThan(0);
        expect(a.map((l) => l.toJSON())).to.deep.equal(b.map((l) => l.toJSON()));
        // A revert comes back as ethers' CALL_EXCEPTION with the same data either way.
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
      const html = createProvider(`http://127.0.0.1:${port}/`, 31337);
      try {
        const err = await html.getBlockNumber().catch((e) => e);
        expect(err).to.be.instanceOf(RpcTransportError);
        expect(err.code).to.equal("SERVER_ERROR");
        expect(err.message).to.include("HTTP 502");
      } finally {
        html.destroy();
        await new Promise((r) => server.close(r));
      }
      const nobody = createProvider(`http://127.0.0.1:${port}/`, 31337);
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
