/**
 * What the node's errors mean: revert data decoded against every CoopTrace ABI, the revert data of
 * an ethers CALL_EXCEPTION, whether the node answered at all, and a secret-free description.
 */
import { ErrorFragment, Interface, type InterfaceAbi } from "ethers";
import {
  BatchRegistry__factory,
  CooperativeRegistry__factory,
  Forwarder__factory,
  SaleEscrow__factory,
} from "../../typechain-types";
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

function buildErrorInterface(): Interface {
  const abis: InterfaceAbi[] = [
    CooperativeRegistry__factory.abi,
    BatchRegistry__factory.abi,
    SaleEscrow__factory.abi,
    Forwarder__factory.abi,
  ];
  const bySelector = new Map<string, ErrorFragment>();
  for (const abi of abis) {
    for (const fragment of new Interface(abi).fragments) {
      if (fragment instanceof ErrorFragment) bySelector.set(fragment.selector, fragment);
    }
  }
  for (const sig of OZ_ERRORS) {
    const fragment = ErrorFragment.from(sig);
    if (!bySelector.has(fragment.selector)) bySelector.set(fragment.selector, fragment);
  }
  return new Interface([...bySelector.values()]);
}

const ERRORS = buildErrorInterface();

function jsonSafe(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(jsonSafe);
  return value;
}

/** Decodes revert data (custom errors of our ABIs, OpenZeppelin errors, Error(string), Panic(uint256)). */
export function decodeRevert(data: string | null | undefined): DecodedError | undefined {
  if (typeof data !== "string" || data.length < 10) return undefined;
  try {
    const parsed = ERRORS.parseError(data);
    if (parsed === null) return undefined;
    return { name: parsed.name, signature: parsed.signature, args: jsonSafe(parsed.args.toArray(true)) as unknown[] };
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
