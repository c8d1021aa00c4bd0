/**
 * The progress of a write the relayer accepted (queued, sent, mined, failed), for the one who made it.
 */
import type { User } from "../custody/users";
import type { OperationStatus, Relayer } from "../relayer";
import { requireRole } from "./access";
import { notFound } from "./errors";

export interface OperationService {
  /**
   * The operation's progress, for its owner or the platform admin. Anyone else is told it does not
   * exist (not_found `operation_not_found`): its existence is not for others to learn.
   */
  status(actor: User | undefined, operationId: string): OperationStatus;
  /** The operation as the relayer records it, owner included: for callers that check `userId` themselves. */
  find(operationId: string): OperationStatus | undefined;
}

export function createOperationService(deps: { relayer: Pick<Relayer, "status"> }): OperationService {
  const find = (operationId: string) => deps.relayer.status(operationId);
  return {
    status(actor, operationId) {
      const user = requireRole(actor);
      const status = find(operationId);
      if (!status || (status.userId !== user.id && user.role !== "platform_admin")) {
        throw notFound("operation_not_found", "no such operation");
      }
      return status;
    },
    find,
  };
}
