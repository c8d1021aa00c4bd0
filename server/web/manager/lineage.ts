/**
 * Lineage pages of the cooperative manager (mounted by routes.ts):
 *
 * - split a lot into new lots (bags): GET/POST /w/manager/batches/:batchId/split → its confirmation,
 *   naming each new lot with a link to its public page;
 * - merge or transform lots into a new one (a transform is a merge whose product differs; one input is
 *   enough): GET/POST /w/manager/batches/merge → its confirmation.
 *
 * The forms parse with the service's own schemas (splitBatchInput, mergeBatchesInput). Before the write,
 * what the contract would refuse is said beside the field: more than is left (mass balance), a lot code
 * that exists or is written twice. For a merge of one product into the same product, the page also asks
 * for the inputs' unit and at most what was drawn: the contract checks only what each input holds, and a
 * lot of rose petals must not come out bigger than the petals that went in. A transform (distilling petals
 * into rose water) changes product and unit, and its quantity is the manager's to say.
 */
import { batchIdOf } from "../../../domain/batchId";
import { MAX_LOT_LENGTH } from "../../../domain/gs1";
import type { Batch } from "../../index";
import { unitName, type Catalog } from "../../pages/i18n";
import { mergeBatchesInput, splitBatchInput } from "../../services/batches";
import { DomainError } from "../../services/errors";
import type { Services } from "../../services";
import { formKey, ONCE_FIELD, parseForm, submitForm, type FormOnce } from "../forms";
import { withLang, type Body, type View } from "../page";
import { opQuery } from "../progress";
import type { FieldProblem } from "../views/components";
import { blank, quantityText as qty, revertOf, type ManagerPage, type ManagerRequest } from "./kit";
import { mergeDonePage, mergeFormPage, splitDonePage, splitFormPage, SPLIT_ROWS } from "./lineageViews";
import { UNITS } from "./views";

export interface LineageDeps {
  services: Pick<Services, "batches">;
  once: FormOnce;
  gtinOf: (batchId: string) => string;
}

const BATCH_ID = /^0x[0-9a-fA-F]{64}$/;

/** The page's `op` parameter, kept in its "look again" link (the index may lag behind a mined write). */
const opOf = (r: ManagerRequest, sep: "?" | "&" = "&") =>
  r.query.op === undefined ? "" : `${sep}op=${encodeURIComponent(r.query.op)}`;

/** `base` with a suffix, cut so the whole stays a valid lot code. */
function withSuffix(base: string, suffix: string): string {
  return base.slice(0, MAX_LOT_LENGTH - suffix.length) + suffix;
}

/** The lots of the manager's cooperative, as both lineage forms read them. */
interface Lots {
  /** Whether the cooperative has a lot with this code already. */
  exists(coopId: number, lotCode: string): boolean;
  /** A lot of the manager's cooperative (not found for any other). */
  lotOf(r: ManagerRequest, batchId: string): Batch;
  /** `count` codes after `base` ("ROSE-1", "ROSE-2"…) that no lot of the cooperative has yet. */
  suggestions(coopId: number, base: string, count: number): string[];
}

function lotsOf(services: LineageDeps["services"]): Lots {
  const exists = (coopId: number, lotCode: string) => {
    try {
      services.batches.get(batchIdOf(BigInt(coopId), lotCode));
      return true;
    } catch {
      return false;
    }
  };
  return {
    exists,
    lotOf(r, batchId) {
      if (!BATCH_ID.test(batchId)) throw new DomainError("not_found", "batch_not_found", `no batch ${batchId}`);
      const batch = services.batches.get(batchId);
      if (Number(batch.cooperativeId) !== r.coopId)
        throw new DomainError("not_found", "batch_not_found", `no batch ${batchId}`);
      return batch;
    },
    suggestions(coopId, base, count) {
      const out: string[] = [];
      for (let n = 1; out.length < count && n < 1000; n++) {
        const code = withSuffix(base, `-${n}`);
        if (!exists(coopId, code)) out.push(code);
      }
      return out;
    },
  };
}

export function lineagePages(deps: LineageDeps): ManagerPage[] {
  const lots = lotsOf(deps.services);
  return [...mergePages(deps, lots), ...splitPages(deps, lots)];
}

/**
 * The rows of a split form that name a new lot (a quantity typed), and what is wrong with their codes
 * before the contract is asked: one written twice, one the cooperative has already.
 */
function splitRows(r: ManagerRequest, lots: Lots) {
  const t = r.c.manager2;
  const b = r.body;
  const problems: FieldProblem[] = [];
  const rows: number[] = [];
  const children: { lotCode: string; quantity: string }[] = [];
  const seen = new Map<string, number>();
  for (let i = 0; i < SPLIT_ROWS; i++) {
    const code = blank(b[`lotCode-${i}`]);
    const quantity = blank(b[`quantity-${i}`]);
    // A row with a suggested code and no quantity is a bag not needed: it is left out.
    if (quantity === undefined) continue;
    if (code !== undefined && seen.has(code)) problems.push({ field: `lotCode-${i}`, message: t.lotTwice });
    else if (code !== undefined && lots.exists(r.coopId, code))
      problems.push({ field: `lotCode-${i}`, message: t.lotExists });
    if (code !== undefined) seen.set(code, i);
    rows.push(i);
    children.push({ lotCode: code ?? "", quantity });
  }
  if (children.length === 0) problems.push({ field: "quantity-0", message: t.splitNone });
  return { problems, rows, children, seen };
}

/** Split a lot into new lots (bags): GET/POST /w/manager/batches/:batchId/split → its confirmation. */
function splitPages(deps: LineageDeps, lots: Lots): ManagerPage[] {
  const { services, once } = deps;

  const splitForm = (r: ManagerRequest, parent: Batch, values: Body, problems: FieldProblem[]): View => {
    const codes = lots.suggestions(r.coopId, parent.lotCode, SPLIT_ROWS);
    const v: Body = { ...values };
    for (let i = 0; i < SPLIT_ROWS; i++) v[`lotCode-${i}`] ??= codes[i] ?? "";
    return splitFormPage(r.c, {
      parent: { ...parent, gtin: deps.gtinOf(parent.batchId) },
      values: v,
      problems,
      csrf: r.csrf,
      once: values[ONCE_FIELD] ?? formKey(),
    });
  };

  const splitPost = (r: ManagerRequest) => {
    const parent = lots.lotOf(r, r.params.batchId);
    const t = r.c.manager2;
    const { problems, rows, children, seen } = splitRows(r, lots);
    const parsed = parseForm(r.c, splitBatchInput, { children });
    if (!parsed.ok) {
      // "children-2-quantity" is the third row sent, which is the form's row rows[2].
      for (const p of parsed.problems) {
        const m = /^children-(\d+)-(lotCode|quantity)$/.exec(p.field);
        const field = m === null ? "quantity-0" : `${m[2]}-${rows[Number(m[1])]}`;
        if (!problems.some((x) => x.field === field)) problems.push({ ...p, field });
      }
    }
    const available = BigInt(parent.available);
    if (parsed.ok) {
      const total = parsed.data.children.reduce((s, x) => s + x.quantity, 0n);
      if (total > available)
        problems.push({
          field: `quantity-${rows[0]}`,
          message:
            available === 0n
              ? t.nothingLeft
              : t.splitTooMuch(qty(r.c, total, parent.unit), qty(r.c, available, parent.unit)),
        });
    }
    return submitForm(r, once, {
      parsed,
      problems,
      form: (p) => splitForm(r, parent, r.body, p),
      write: async (data) => {
        const res = await services.batches.split(r.user, parent.batchId, data);
        const ids = data.children.map((x) => batchIdOf(BigInt(r.coopId), x.lotCode));
        return `/w/manager/batches/${parent.batchId}/split/done?ids=${ids.join(".")}${opQuery(res.outcome, "&")}`;
      },
      // What the contract refused after all (another page wrote meanwhile), beside its row.
      refused: (err) => {
        const refused = revertOf(err);
        if (refused?.name === "BatchRegistryDuplicateLot") {
          const row = seen.get(String(refused.args[1])) ?? rows[0];
          return [{ field: `lotCode-${row}`, message: t.lotExists }];
        }
        if (refused?.name === "BatchRegistryQuantityExceeded") {
          const left = qty(r.c, String(refused.args[1]), parent.unit);
          const total = qty(r.c, String(refused.args[2]), parent.unit);
          return [{ field: `quantity-${rows[0]}`, message: t.splitTooMuch(total, left) }];
        }
        return null;
      },
    });
  };

  const splitDone = (r: ManagerRequest) => {
    const parent = lots.lotOf(r, r.params.batchId);
    const ids = (r.query.ids ?? "")
      .split(".")
      .filter((x) => BATCH_ID.test(x))
      .slice(0, SPLIT_ROWS);
    const children = ids.flatMap((id) => {
      try {
        const b = lots.lotOf(r, id);
        return [{ ...b, gtin: deps.gtinOf(b.batchId) }];
      } catch {
        return [];
      }
    });
    // On its way while the chain has not recorded the split, or while the index has not caught up with it.
    const indexing = children.length < ids.length;
    return {
      status: 200,
      view: splitDonePage(r.c, {
        parent: { ...parent, gtin: deps.gtinOf(parent.batchId) },
        children,
        expected: ids.length,
        pending: r.pending,
        indexing,
        again: withLang(r.c, `/w/manager/batches/${parent.batchId}/split/done?ids=${ids.join(".")}${opOf(r)}`),
      }),
    };
  };

  return [
    {
      method: "get",
      path: "/w/manager/batches/:batchId/split",
      handle: (r) => ({ status: 200, view: splitForm(r, lots.lotOf(r, r.params.batchId), {}, []) }),
    },
    { method: "post", path: "/w/manager/batches/:batchId/split", handle: splitPost },
    { method: "get", path: "/w/manager/batches/:batchId/split/done", handle: splitDone },
  ];
}

/** The lots a merge may draw from: those of the cooperative with something left, as the form lists them. */
const usable = (services: LineageDeps["services"], r: ManagerRequest) =>
  services.batches
    .list({ cooperativeId: r.coopId, limit: 100, offset: 0 })
    .items.filter((b) => BigInt(b.available) > 0n)
    .slice(0, 40);

/** The ticked rows of a merge form: a ticked box names its lot, which must still be usable. */
function mergeRows(r: ManagerRequest, shown: Batch[]) {
  const t = r.c.manager2;
  const b = r.body;
  const problems: FieldProblem[] = [];
  const inputs: { batchId: string; quantity: string }[] = [];
  const used: { row: number; lot: Batch }[] = [];
  for (let i = 0; i < 40; i++) {
    const id = b[`use-${i}`];
    if (id === undefined) continue;
    const lot = shown.find((l) => l.batchId === id);
    if (lot === undefined) continue;
    const take = blank(b[`take-${i}`]);
    if (take === undefined) {
      problems.push({ field: `take-${i}`, message: t.takeMissing });
      continue;
    }
    if (/^[0-9]{1,18}$/.test(take) && BigInt(take) > BigInt(lot.available))
      problems.push({ field: `take-${i}`, message: t.takeTooMuch(qty(r.c, lot.available, lot.unit)) });
    used.push({ row: i, lot });
    inputs.push({ batchId: lot.batchId, quantity: take });
  }
  if (used.length === 0 && problems.length === 0) problems.push({ field: "use-0", message: t.mergeNone });
  return { problems, inputs, used };
}

/**
 * Merge or transform lots into a new one (a transform is a merge whose product differs; one input is
 * enough): GET/POST /w/manager/batches/merge → its confirmation /w/manager/batches/:batchId/merged.
 */
function mergePages(deps: LineageDeps, lots: Lots): ManagerPage[] {
  const { services, once } = deps;

  /** "ROSEWA-20261204", then "-2", "-3"… when a lot of the cooperative has it already. */
  const suggestMergeLot = (coopId: number, productCode: string): string => {
    const prefix =
      productCode
        .replace(/[^A-Za-z0-9]+/g, "")
        .toUpperCase()
        .slice(0, 6) || "LOT";
    const base = `${prefix}-${new Date().toISOString().slice(0, 10).replace(/-/g, "")}`;
    if (!lots.exists(coopId, base)) return base;
    return lots.suggestions(coopId, base, 1)[0] ?? base;
  };

  const mergeForm = (r: ManagerRequest, values: Body, problems: FieldProblem[]): View => {
    const shown = usable(services, r);
    const products = Object.keys(r.c.products);
    const from = shown.find((l) => l.batchId === r.query.from);
    const productCode = values.productCode ?? from?.productCode ?? products[0];
    const v: Body = {
      productCode,
      unit: from?.unit ?? "kg",
      productionDate: new Date().toISOString().slice(0, 10),
      ...values,
    };
    v.lotCode ??= suggestMergeLot(r.coopId, productCode);
    if (from !== undefined && values.productCode === undefined) v[`use-${shown.indexOf(from)}`] = from.batchId;
    return mergeFormPage(r.c, {
      lots: shown.map((l) => ({ ...l, gtin: deps.gtinOf(l.batchId) })),
      products,
      units: [...UNITS],
      values: v,
      problems,
      csrf: r.csrf,
      once: values[ONCE_FIELD] ?? formKey(),
    });
  };

  const mergePost = (r: ManagerRequest) => {
    const t = r.c.manager2;
    const b = r.body;
    const { problems, inputs, used } = mergeRows(r, usable(services, r));
    const lotCode = b.lotCode?.trim() ?? "";
    const parsed = parseForm(r.c, mergeBatchesInput, {
      cooperativeId: r.coopId,
      inputs,
      productCode: b.productCode ?? "",
      lotCode,
      quantity: blank(b.quantity),
      unit: b.unit ?? "",
      origin: b.origin?.trim() ?? "",
      productionDate: b.productionDate ?? "",
    });
    if (!parsed.ok)
      for (const p of parsed.problems) {
        const m = /^inputs-(\d+)-quantity$/.exec(p.field);
        const field =
          m === null ? (p.field.startsWith("inputs") ? "use-0" : p.field) : `take-${used[Number(m[1])]?.row ?? 0}`;
        if (!problems.some((x) => x.field === field)) problems.push({ ...p, field });
      }
    if (lotCode !== "" && !problems.some((p) => p.field === "lotCode") && lots.exists(r.coopId, lotCode))
      problems.push({ field: "lotCode", message: t.lotExists });
    if (parsed.ok)
      problems.push(
        ...sameProductRules(
          r.c,
          parsed.data,
          used.map((u) => u.lot),
        ),
      );
    return submitForm(r, once, {
      parsed,
      problems,
      form: (p) => mergeForm(r, b, p),
      write: async (data) => {
        const res = await services.batches.merge(r.user, data);
        const id = batchIdOf(BigInt(r.coopId), data.lotCode);
        return `/w/manager/batches/${id}/merged${opQuery(res.outcome)}`;
      },
      // What the contract or the service refused after all, beside its field.
      refused: (err) => {
        const refused = revertOf(err);
        if (refused?.name === "BatchRegistryDuplicateLot") return [{ field: "lotCode", message: t.lotExists }];
        if (refused?.name === "BatchRegistryQuantityExceeded") {
          const row = used.find((u) => u.lot.batchId === refused.args[0])?.row ?? used[0].row;
          const unit = used.find((u) => u.row === row)?.lot.unit ?? "";
          return [{ field: `take-${row}`, message: t.takeTooMuch(qty(r.c, String(refused.args[1]), unit)) }];
        }
        if (err instanceof DomainError && err.code === "merge_without_contributors")
          return [{ field: `take-${used[0].row}`, message: t.mergeTooSmall }];
        return null;
      },
    });
  };

  const mergeDone = (r: ManagerRequest) => {
    const id = r.params.batchId;
    let lot: Batch | null = null;
    try {
      lot = lots.lotOf(r, id);
    } catch (err) {
      // Not indexed yet (the write is on its way): the page says so and offers to look again.
      if (r.pending === null && r.query.op === undefined) throw err;
    }
    const parents =
      lot === null
        ? []
        : services.batches.get(id).parents.flatMap((p) => {
            try {
              const b = services.batches.get(p.batchId);
              return [{ ...b, gtin: deps.gtinOf(b.batchId), drawn: p.quantity }];
            } catch {
              return [];
            }
          });
    return {
      status: lot === null ? 202 : 200,
      view: mergeDonePage(r.c, {
        lot: lot === null ? null : { ...lot, gtin: deps.gtinOf(lot.batchId) },
        parents,
        pending: r.pending,
        again: withLang(r.c, `/w/manager/batches/${id}/merged${opOf(r, "?")}`),
      }),
    };
  };

  return [
    { method: "get", path: "/w/manager/batches/merge", handle: (r) => ({ status: 200, view: mergeForm(r, {}, []) }) },
    { method: "post", path: "/w/manager/batches/merge", handle: mergePost },
    { method: "get", path: "/w/manager/batches/:batchId/merged", handle: mergeDone },
  ];
}

/**
 * A merge into the product the inputs already are (not a transform): the same unit as theirs, and no more
 * than was drawn from them, so the lot cannot grow out of nothing.
 */
function sameProductRules(
  c: Catalog,
  input: { productCode: string; unit: string; quantity: bigint; inputs: { quantity: bigint }[] },
  lots: Batch[],
): FieldProblem[] {
  if (lots.length === 0 || !lots.every((l) => l.productCode === input.productCode)) return [];
  const units = new Set(lots.map((l) => l.unit));
  if (units.size === 1 && !units.has(input.unit)) {
    return [{ field: "unit", message: c.manager2.sameUnit(unitName(c, lots[0].unit)) }];
  }
  const drawn = input.inputs.reduce((s, x) => s + x.quantity, 0n);
  if (units.size === 1 && input.quantity > drawn) {
    return [{ field: "quantity", message: c.manager2.mergeTooMuch(qty(c, drawn, lots[0].unit)) }];
  }
  return [];
}
