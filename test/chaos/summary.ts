/**
 * The chaos run's report: each scenario records one row (figures: requests sent, landed on-chain,
 * lost, executed more than once, unexpected 5xx answers); a root `after` hook prints them all as a
 * markdown table at the end of the run (`npm run test:chaos`).
 */
export interface ChaosRow {
  scenario: string;
  result: "pass" | "fail";
  requests: number;
  landed: number;
  lost: number;
  duplicated: number;
  /** 5xx answers that the scenario did not expect (an expected 503 is counted in the notes). */
  fivexx: number;
  notes: string;
}

const rows: ChaosRow[] = [];

export function record(row: ChaosRow): void {
  rows.push(row);
}

export function recorded(): readonly ChaosRow[] {
  return rows;
}

const cell = (v: unknown) => String(v).replace(/\|/g, "\\|").replace(/\n/g, " ");

export function summaryTable(list: readonly ChaosRow[] = rows): string {
  const head = ["Scenario", "Result", "Requests", "Landed", "Lost", "Duplicated", "5xx", "Notes"];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  for (const r of list) {
    lines.push(
      `| ${[r.scenario, r.result, r.requests, r.landed, r.lost, r.duplicated, r.fivexx, r.notes].map(cell).join(" | ")} |`,
    );
  }
  return lines.join("\n");
}

// A root hook: registered when a test file imports this module (mocha's globals exist then).
if (typeof after === "function") {
  after(function () {
    if (rows.length === 0) return;
    console.log(`\nChaos summary (${new Date().toISOString()})\n\n${summaryTable()}\n`);
  });
}
