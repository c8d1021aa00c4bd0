/**
 * The ABIs the verifier decodes with: the contracts' published interfaces (generated from the
 * artifacts into server/chain/abis.generated.ts) and the two ERC-20 metadata getters, behind a small
 * interface over viem's coder. Decoded values are Results: every integer a bigint whatever its width,
 * structs and outputs readable by position and by name, addresses checksummed, bytes lowercase hex.
 */
import {
  decodeAbiParameters,
  decodeEventLog,
  encodeFunctionData,
  parseAbi,
  toEventSelector,
  type Abi,
  type AbiEvent,
  type AbiFunction,
  type AbiParameter,
  type Hex,
} from "viem";
import { iBatchRegistryAbi, iCooperativeRegistryAbi, iPayoutLedgerAbi, iSaleEscrowAbi } from "../chain/abis.generated";

/** A decoded tuple or argument list: by position and by name. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Result = any[] & { readonly [name: string]: any };

function normalize(param: AbiParameter, value: unknown): unknown {
  const array = /^(.*)\[(\d*)\]$/.exec(param.type);
  if (array) {
    const item = { ...param, type: array[1] } as AbiParameter;
    return (value as readonly unknown[]).map((v) => normalize(item, v));
  }
  if (param.type === "tuple") {
    const components = (param as { components: readonly AbiParameter[] }).components;
    return result(
      components,
      components.map((c, i) => (Array.isArray(value) ? value[i] : (value as Record<string, unknown>)[c.name!])),
    );
  }
  if (/^u?int\d*$/.test(param.type)) return BigInt(value as bigint | number);
  return value;
}

function result(params: readonly AbiParameter[], values: readonly unknown[]): Result {
  const out = params.map((p, i) => normalize(p, values[i])) as Result;
  params.forEach((p, i) => {
    if (p.name && !(p.name in out)) Object.defineProperty(out, p.name, { value: out[i], enumerable: true });
  });
  return out;
}

/** One contract's ABI: calls encoded, results and logs decoded. */
export class ContractAbi {
  readonly #functions = new Map<string, AbiFunction>();
  readonly #events = new Map<string, AbiEvent>();
  readonly #topics = new Map<string, AbiEvent>();

  constructor(readonly abi: Abi) {
    for (const item of abi) {
      if (item.type === "function") this.#functions.set(item.name, item);
      if (item.type === "event") {
        this.#events.set(item.name, item);
        this.#topics.set(toEventSelector(item), item);
      }
    }
  }

  #function(name: string): AbiFunction {
    const fn = this.#functions.get(name);
    if (fn === undefined) throw new Error(`no function ${name}`);
    return fn;
  }

  encodeFunctionData(name: string, args: readonly unknown[]): Hex {
    return encodeFunctionData({ abi: [this.#function(name)], functionName: name, args } as never);
  }

  decodeFunctionResult(name: string, data: Hex): Result {
    const fn = this.#function(name);
    return result(fn.outputs, decodeAbiParameters(fn.outputs, data));
  }

  /** The event of a log, or null when its first topic is none of this ABI's events. */
  parseLog(log: { topics: readonly string[]; data: string }): { name: string; args: Result } | null {
    const event = log.topics.length > 0 ? this.#topics.get(log.topics[0]) : undefined;
    if (event === undefined) return null;
    const { args } = decodeEventLog({
      abi: [event],
      data: log.data as Hex,
      topics: log.topics as [Hex, ...Hex[]],
      strict: true,
    });
    const values = event.inputs.map((input, i) =>
      Array.isArray(args) ? args[i] : (args as unknown as Record<string, unknown>)[input.name!],
    );
    return { name: event.name, args: result(event.inputs, values) };
  }

  topic(event: string): Hex {
    const e = this.#events.get(event);
    if (e === undefined) throw new Error(`no event ${event}`);
    return toEventSelector(e);
  }
}

export const batchRegistryAbi = new ContractAbi(iBatchRegistryAbi);
export const cooperativeRegistryAbi = new ContractAbi(iCooperativeRegistryAbi);
export const saleEscrowAbi = new ContractAbi(iSaleEscrowAbi);
export const payoutLedgerAbi = new ContractAbi(iPayoutLedgerAbi);
export const erc20MetadataAbi = new ContractAbi(
  parseAbi(["function decimals() view returns (uint8)", "function symbol() view returns (string)"]),
);

export function topicOf(abi: ContractAbi, event: string): string {
  return abi.topic(event);
}
