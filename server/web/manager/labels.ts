/**
 * Printing labels from the workspace: GET /w/manager/labels is the form (labelViews.ts); it is sent to
 * GET /w/manager/labels.pdf, which answers the PDF of the label service or, when something does not fit
 * (no lot ticked, a pack that is not a number or not in the lot's unit, more labels than one print
 * holds, a lot that went into others), the form again with the manager's choices and what to fix beside
 * each field, in his language, status 400. A link without the form's fields (`?batch=…` alone, or
 * nothing: every lot offered for sale) prints at once with the usual defaults, as before the form.
 */
import type { Services } from "../../services";
import { DomainError } from "../../services/errors";
import { labelSheetInput, type LabelLot } from "../../services/labels";
import { unitName, type Catalog } from "../../pages/i18n";
import type { Answer } from "../page";
import type { FieldProblem } from "../views/components";
import type { ManagerRequest } from "./kit";
import { DEFAULT_LABEL_VALUES, labelFormPage, type LabelFormValues } from "./labelViews";

/** The query of both routes; `batch` may repeat (one per ticked lot). */
export interface LabelQuery {
  batch: string[];
  /** "1" when sent from the form: no lot ticked is then a mistake, not "every lot for sale". */
  form?: string;
  stock?: string;
  pack?: string;
  packUnit?: string;
  count?: string;
  /** The API's form of the languages ("ar,fr"); the form sends language1..3. */
  languages?: string;
  language1?: string;
  language2?: string;
  language3?: string;
}

export interface LabelDeps {
  services: Pick<Services, "labels">;
  /** A lot of this cooperative that can be labelled, when a link names one that is not offered for sale. */
  labelLot: (cooperativeId: number, batchId: string) => LabelLot | null;
}

const blankToUndefined = (s: string | undefined) => (s === undefined || s.trim() === "" ? undefined : s.trim());

function valuesOf(q: LabelQuery): LabelFormValues {
  const d = DEFAULT_LABEL_VALUES;
  const langs = q.languages?.split(",") ?? [];
  return {
    pack: q.pack ?? d.pack,
    packUnit: q.packUnit ?? d.packUnit,
    count: q.count ?? d.count,
    stock: q.stock ?? d.stock,
    language1: q.language1 ?? langs[0] ?? d.language1,
    language2: q.language2 ?? langs[1] ?? d.language2,
    language3: q.language3 ?? langs[2] ?? d.language3,
  };
}

/** The message beside a field for the service's refusal `code`, in the reader's language. */
function problemFor(c: Catalog, code: string, err: DomainError | null, field: string): FieldProblem {
  const t = c.labelForm;
  const details = err?.extra ?? {};
  const messages: Record<string, string> = {
    pack_unit_mismatch: t.packUnitMismatch(unitName(c, String(details.unit ?? ""))),
    not_enough_in_lot: t.notEnough,
    too_many_labels: t.tooMany(Number(details.max ?? 0)),
    batch_internal: t.internal,
    batch: t.chooseLot,
    pack: t.packInvalid,
    packUnit: t.packUnitMismatch(""),
    count: t.countInvalid,
    languages: t.languagesInvalid,
    stock: t.stockLegend,
  };
  return { field, message: messages[code] ?? t.packInvalid };
}

const FIELD_OF: Record<string, string> = { languages: "language1", batch: "batch" };

export function labelPages(deps: LabelDeps) {
  const { labels } = deps.services;

  /** The lots the form offers: those for sale, and any lot a link named (the lot page's "Print labels"). */
  function lotsFor(r: ManagerRequest, q: LabelQuery, values: LabelFormValues, problems: FieldProblem[]): Answer {
    const lots = labels.lotsForSale(r.coopId);
    for (const id of q.batch) {
      if (lots.some((l) => l.batchId.toLowerCase() === id.toLowerCase())) continue;
      const lot = deps.labelLot(r.coopId, id);
      if (lot !== null) lots.unshift(lot);
    }
    const ticked = new Set(q.batch.map((id) => id.toLowerCase()));
    const fromForm = q.form === "1";
    const view = labelFormPage(r.c, {
      lots: lots.map((l) => ({ ...l, checked: ticked.size > 0 || fromForm ? ticked.has(l.batchId) : true })),
      values,
      problems,
    });
    return { status: problems.length === 0 ? 200 : 400, view };
  }

  async function pdf(r: ManagerRequest, q: LabelQuery): Promise<Answer> {
    const values = valuesOf(q);
    if (q.form === "1" && q.batch.length === 0) return lotsFor(r, q, values, [problemFor(r.c, "batch", null, "batch")]);
    const languages = [values.language1, values.language2, values.language3].filter((l) => l !== "");
    const input = labelSheetInput.safeParse({
      batch: q.batch.length === 0 ? undefined : q.batch,
      stock: values.stock,
      pack: blankToUndefined(values.pack),
      packUnit: blankToUndefined(values.packUnit),
      count: blankToUndefined(values.count),
      languages,
    });
    if (!input.success) {
      const fields = [...new Set(input.error.issues.map((i) => String(i.path[0] ?? "pack")))];
      // A lot id that is not one: the same "not found" as a lot of someone else's.
      if (fields.includes("batch")) throw new DomainError("not_found", "batch_not_found", "no such lot");
      return lotsFor(
        r,
        q,
        values,
        fields.map((f) => problemFor(r.c, f, null, FIELD_OF[f] ?? f)),
      );
    }
    try {
      const sheet = await labels.labelSheet(r.coopId, input.data);
      return { pdf: sheet.pdf, filename: `labels-${r.coopId}.pdf` };
    } catch (err) {
      if (!(err instanceof DomainError) || err.kind !== "invalid") throw err;
      const field = err.extra.errors?.[0]?.field ?? "pack";
      return lotsFor(r, q, values, [problemFor(r.c, err.code, err, FIELD_OF[field] ?? field)]);
    }
  }

  return {
    form: (r: ManagerRequest, q: LabelQuery) => lotsFor(r, q, valuesOf(q), []),
    pdf,
  };
}
