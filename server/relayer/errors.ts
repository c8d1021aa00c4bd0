/**
 * Errors of the relayer and the decoding of revert data against every CoopTrace ABI.
 *
 * A rejected request (it would revert, or it is malformed) is the caller's fault: the API maps it
 * to 4xx with the decoded custom error. An unavailable relayer (no funds, no chain, no contracts)
 * is ours: the API maps it to 503 with the code.
 */
import { ErrorFragment, Interface, type InterfaceAbi } from "ethers";
import {
  BatchRegistry__factory,
  CooperativeRegistry__factory,
  Forwarder__factory,
  SaleEscrow__factory,
} from "../../typechain-types";

/** A custom error decoded from revert data. Arguments are JSON-safe: integers as decimal strings. */
export interface DecodedError {
  name: string;
  signature: string;
  args: unknown[];
}

export type RejectionCode =
  | "would_revert"
  | "invalid_request"
  | "invalid_signature"
  | "untrusted_target"
  | "gas_too_low"
  | "gas_too_high"
  | "expired";

export class RelayRejectedError extends Error {
  override readonly name = "RelayRejectedError";
  constructor(
    readonly code: RejectionCode,
    message: string,
    readonly decoded?: DecodedError,
  ) {
    super(message);
  }
}

export type UnavailableCode = "relayer_low_balance" | "chain_unavailable" | "contracts_missing";

export class RelayerUnavailableError extends Error {
  override readonly name = "RelayerUnavailableError";
  constructor(
    readonly code: UnavailableCode,
    message: string,
  ) {
    super(message);
  }
}

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
