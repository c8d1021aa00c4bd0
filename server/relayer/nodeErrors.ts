/**
 * What the node's errors mean: revert data decoded against every CoopTrace ABI, the revert data of
 * a CALL_EXCEPTION (server/chain/client.ts), whether the node answered at all, and a secret-free description.
 */
import { wordToText } from "../../domain/words";
import { decodeErrorResult, parseAbiItem, toFunctionSelector, toFunctionSignature, type Abi, type Hex } from "viem";

type AbiError = Extract<Abi[number], { type: "error" }>;
import { batchRegistryAbi, cooperativeRegistryAbi, forwarderAbi, saleEscrowAbi } from "../chain/abis.generated";
import type { DecodedError } from "./errors";

/**
 * OpenZeppelin errors that library code may raise inside our contracts but that a contract ABI
 * lists only when the contract itself uses them.
 */
const OZ_ERRORS = [
  "error FailedCall()",
  "error FailedDeployment()",
  "error InsufficientBalance(uint256 balance, uint256 needed)",
  "error MissingPrecompile(address)",
  "error AddressEmptyCode(address target)",
  "error ReentrancyGuardReentrantCall()",
  "error EnforcedPause()",
  "error ExpectedPause()",
  "error SafeERC20FailedOperation(address token)",
  "error SafeCastOverflowedUintDowncast(uint8 bits, uint256 value)",
  "error AccessControlUnauthorizedAccount(address account, bytes32 neededRole)",
  "error AccessControlBadConfirmation()",
  "error InvalidAccountNonce(address account, uint256 currentNonce)",
  "error ECDSAInvalidSignature()",
  "error ECDSAInvalidSignatureLength(uint256 length)",
  "error ECDSAInvalidSignatureS(bytes32 s)",
  "error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)",
  "error ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)",
  "error ERC20InvalidReceiver(address receiver)",
  "error ERC20InvalidSender(address sender)",
];

/** Solidity's own: require(string) and assert/arithmetic panics. */
const BUILTIN_ERRORS = ["error Error(string message)", "error Panic(uint256 code)"];

/** One error per selector: our contracts' first, then OpenZeppelin's, then the built-in ones. */
function buildErrorAbi(): AbiError[] {
  const abis: Abi[] = [cooperativeRegistryAbi, batchRegistryAbi, saleEscrowAbi, forwarderAbi];
  const bySelector = new Map<string, AbiError>();
  const add = (item: AbiError) => {
    const selector = toFunctionSelector(item as never);
    if (!bySelector.has(selector)) bySelector.set(selector, item);
  };
  for (const abi of abis) for (const item of abi) if (item.type === "error") add(item);
  for (const sig of [...OZ_ERRORS, ...BUILTIN_ERRORS]) add(parseAbiItem(sig) as AbiError);
  return [...bySelector.values()];
}

const ERRORS = buildErrorAbi();

/**
 * Arguments as JSON, as the API has always answered them: every integer a decimal string (viem
 * decodes integers up to 48 bits as numbers, the others as bigints: both only come from integer
 * parameters), structs as arrays of their fields.
 */
function jsonSafe(value: unknown): unknown {
  if (typeof value === "bigint" || typeof value === "number") return value.toString();
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value !== null && typeof value === "object") return Object.values(value).map(jsonSafe);
  return value;
}

/** Error arguments that are text kept as a padded word (domain/words.ts). */
const WORD_ARGS = new Set(["lotCode", "productCode", "unit"]);

/** Decodes revert data (custom errors of our ABIs, OpenZeppelin errors, Error(string), Panic(uint256)). */
export function decodeRevert(data: string | null | undefined): DecodedError | undefined {
  if (typeof data !== "string" || data.length < 10) return undefined;
  try {
    const { abiItem, args } = decodeErrorResult({ abi: ERRORS, data: data as Hex });
    const signature = toFunctionSignature(abiItem as never);
    const inputs = (abiItem as { inputs?: readonly { name?: string; type: string }[] }).inputs ?? [];
    // A lot code, product code or unit is a padded word on-chain: shown as the text it is.
    const shown = [...(args ?? [])].map((v, i) =>
      inputs[i]?.type === "bytes32" && WORD_ARGS.has(inputs[i]?.name ?? "") ? wordToText(v as string) : v,
    );
    return { name: abiItem.name, signature, args: jsonSafe(shown) as unknown[] };
  } catch {
    return undefined;
  }
}

/** The revert data carried by an ethers CALL_EXCEPTION, or undefined for any other error. */
export function revertDataOf(err: unknown): { reverted: boolean; data?: string } {
  const e = err as { code?: string; data?: unknown } | null;
  if (e?.code !== "CALL_EXCEPTION") return { reverted: false };
  return { reverted: true, data: typeof e.data === "string" ? e.data : undefined };
}

/** A short, secret-free description of an error: ethers messages embed raw transactions. */
export function describeError(err: unknown): { code?: string; message: string } {
  const e = err as { code?: unknown; shortMessage?: unknown; message?: unknown } | null;
  const text = String(e?.shortMessage ?? e?.message ?? err)
    .replace(/0x[0-9a-fA-F]{130,}/g, "0x…")
    .slice(0, 300);
  return { code: typeof e?.code === "string" ? e.code : undefined, message: text };
}

/** True when the node answered with a JSON-RPC error (as opposed to no answer at all). */
export function nodeAnswered(err: unknown): boolean {
  const e = err as { error?: { code?: unknown }; info?: { error?: { code?: unknown } } } | null;
  return e?.error?.code !== undefined || e?.info?.error?.code !== undefined;
}
