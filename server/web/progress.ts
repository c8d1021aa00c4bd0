/**
 * A write that is accepted but not yet on the chain: its confirmation page says so in words and
 * carries a "look again" link (enough without JavaScript). Where JavaScript runs, one same-origin
 * script (assets/progress.js) asks GET /w/operations/<id> every 2 s and opens the finished page once
 * the write is done. The status answers only the operation's owner, from her session.
 */
import { createHash } from "node:crypto";
import { html, type Html } from "../pages/html";
import type { Catalog } from "../pages/i18n";
import type { OperationStatus } from "../relayer";

// Kept here as text, as the style sheet is (server/pages/assets.ts): the build copies no other files.
const SOURCE = `// Progressive enhancement of a write "on its way": the page works without this file (a "look again"
// link); with it, the page asks the gateway every 2 s whether the write is done and, when it is, opens
// the finished page by itself. Served from this origin under the pages' Content-Security-Policy.
(function () {
  "use strict";
  var el = document.querySelector("[data-operation]");
  if (!el || !window.fetch) return;
  var id = el.getAttribute("data-operation");
  var next = el.getAttribute("data-next");
  var failed = el.getAttribute("data-failed");
  var tries = 0;
  function poll() {
    tries += 1;
    if (tries > 90) return; // three minutes: the link on the page is still there
    fetch("/w/operations/" + encodeURIComponent(id), {
      credentials: "same-origin",
      headers: { accept: "application/json" },
    })
      .then(function (r) {
        return r.ok ? r.json() : null;
      })
      .then(function (s) {
        if (s && s.state === "done") return window.location.replace(next);
        if (s && s.state === "failed") {
          el.textContent = failed;
          el.className = "banner bad";
          return;
        }
        window.setTimeout(poll, 2000);
      })
      .catch(function () {
        window.setTimeout(poll, 4000);
      });
  }
  window.setTimeout(poll, 1500);
})();
`;

/** The script, under a name that changes with its content (cached for a year). */
export const PROGRESS_SCRIPT = {
  body: SOURCE,
  path: `/assets/progress.${createHash("sha256").update(SOURCE).digest("hex").slice(0, 12)}.js`,
};

export type Progress = "pending" | "done" | "failed";

/** What a page says of an operation: done once mined (or later), failed, else still on its way. */
export function progressOf(status: OperationStatus | undefined): Progress {
  if (status === undefined) return "pending";
  if (status.state === "failed") return "failed";
  return status.state === "mined" ? "done" : "pending";
}

/**
 * The "on its way" banner: how long it takes and a link to look again at `next` (the same page, which
 * shows the result once the write is done); the script follows `next` by itself.
 */
export function inProgress(c: Catalog, o: { operationId: string; next: string; lookAgain: string }): Html {
  return html`<p
    class="banner warn"
    role="status"
    data-operation="${o.operationId}"
    data-next="${o.next}"
    data-failed="${c.form.writeFailed}"
  >
    ${c.form.onItsWay} <a href="${o.next}">${o.lookAgain}</a>
  </p>`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A write a confirmation page follows: its operation, how it stands, and the page's own address. */
export interface PendingWrite {
  operationId: string;
  state: Exclude<Progress, "done">;
  /** The confirmation page itself (its `op` parameter included): where "look again" leads. */
  self: string;
}

/**
 * The write named by a confirmation page's `op` parameter, while it is not done; null once it is (or
 * for an operation that is not the reader's: the page is then shown as done, which it will be).
 */
export function pendingWrite(
  op: unknown,
  userId: string,
  status: (id: string) => OperationStatus | undefined,
  self: string,
): PendingWrite | null {
  if (typeof op !== "string" || !UUID.test(op)) return null;
  const s = status(op);
  if (s === undefined || s.userId !== userId) return null;
  const state = progressOf(s);
  return state === "done" ? null : { operationId: op, state, self };
}

/** "?op=<id>" for a write the chain has not recorded yet, "" once it has: where a form sends next. */
export function opQuery(outcome: { status: string; operationId: string }, sep: "?" | "&" = "?"): string {
  return outcome.status === "mined" ? "" : `${sep}op=${outcome.operationId}`;
}

/** The banner of a write not yet done: on its way (followed by the script), or refused by the chain. */
export function progressBanner(c: Catalog, p: PendingWrite | null, lookAgain: string): Html {
  if (p === null) return html``;
  if (p.state === "failed") return html`<p class="banner bad" role="alert">${c.form.writeFailed}</p>`;
  return inProgress(c, { operationId: p.operationId, next: p.self, lookAgain });
}
