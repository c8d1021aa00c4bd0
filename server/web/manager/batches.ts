/**
 * Recording a lot and its steps (mounted by routes.ts):
 *
 * - GET/POST /w/manager/batches/new → /w/manager/batches: a lot with who delivered what → its
 *   confirmation /w/manager/batches/:batchId/done, linking to its public page;
 * - GET/POST /w/manager/batches/:batchId/step → its confirmation …/step/done.
 *
 * Before the write, what a manager types differently from the schema is said in words beside the field:
 * a weight in decimals ("7,5": the chain counts whole units), a quantity that is not the total delivered.
 */
import { batchIdOf } from "../../../domain/batchId";
import type { Queries } from "../../index";
import type { Services } from "../../services";
import { registerBatchInput, recordEventInput } from "../../services/batches";
import { DomainError } from "../../services/errors";
import { fromMoroccoWallClock, moroccoWallClock } from "../../pages/format";
import { formKey, ONCE_FIELD, parseForm, submitForm, type FormOnce } from "../forms";
import type { Body } from "../page";
import { opQuery } from "../progress";
import type { FieldProblem } from "../views/components";
import { blank, quantityText, revertOf, type ManagerPage, type ManagerRequest } from "./kit";
import { batchDonePage, batchFormPage, stepDonePage, stepFormPage } from "./views";

export interface BatchDeps {
  services: Pick<Services, "batches" | "cooperatives">;
  once: FormOnce;
  getBatch: Queries["getBatch"];
  gtinOf: (batchId: string) => string;
}

/**
 * A lot code not yet used by the cooperative: a short prefix of the product ("rose-water" → ROSEW,
 * "rose-petals" → ROSEP), today's date and the first counter free ("ROSEW-20261204-1", then -2…); GS1
 * AI (10) characters only, 20 at most. `used` says whether the cooperative has a lot with that code.
 */
export function suggestLot(productCode: string, used: (lotCode: string) => boolean, now = new Date()): string {
  const parts = productCode
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter(Boolean);
  const prefix =
    parts.length === 0
      ? "LOT"
      : (
          parts[0].slice(0, 4) +
          parts
            .slice(1)
            .map((x) => x[0])
            .join("")
        ).slice(0, 6);
  const stem = `${prefix}-${now.toISOString().slice(0, 10).replace(/-/g, "")}`;
  for (let n = 1; n < 1000; n++) if (!used(`${stem}-${n}`)) return `${stem}-${n}`;
  return `${stem}-${now.getTime() % 100_000}`;
}

/** The contributors a lot's form names (member-i / weight-i rows): those with a weight, and what is wrong. */
function contributorsOf(r: ManagerRequest): {
  contributors: { memberId: string; weight: string }[];
  total: bigint;
  problems: FieldProblem[];
} {
  const b = r.body;
  const problems: FieldProblem[] = [];
  const contributors: { memberId: string; weight: string }[] = [];
  let total = 0n;
  for (let i = 0; b[`member-${i}`] !== undefined; i++) {
    const w = blank(b[`weight-${i}`]);
    if (w === undefined) continue;
    if (!/^[0-9]{1,18}$/.test(w) || BigInt(w) === 0n) {
      // "7,5" kg: the chain counts whole units, so say how to write it rather than "not valid".
      const decimal = /^[0-9]+[.,][0-9]+$/.test(w);
      problems.push({ field: `weight-${i}`, message: decimal ? r.c.manager.wholeUnits : r.c.form.invalid });
      continue;
    }
    total += BigInt(w);
    contributors.push({ memberId: b[`member-${i}`]!, weight: w });
  }
  if (contributors.length === 0 && problems.length === 0)
    problems.push({ field: "contributors", message: r.c.manager.noContributor });
  return { contributors, total, problems };
}

/** A lot of the manager's cooperative (not found for any other), as the pages name it. */
function lotFinder(deps: BatchDeps) {
  return (r: ManagerRequest, batchId: string) => {
    const batch = /^0x[0-9a-fA-F]{64}$/.test(batchId) ? deps.getBatch(batchId) : null;
    if (batch === null || Number(batch.cooperativeId) !== r.coopId)
      throw new DomainError("not_found", "batch_not_found", `no batch ${batchId}`);
    return {
      batchId: batch.batchId,
      productCode: batch.productCode,
      lotCode: batch.lotCode,
      gtin: deps.gtinOf(batch.batchId),
    };
  };
}

export function batchPages(deps: BatchDeps): ManagerPage[] {
  const { services, once } = deps;

  const lotOf = lotFinder(deps);

  // ---- record a lot ----
  const proposeLot = (r: ManagerRequest, productCode: string) =>
    suggestLot(productCode, (code) => deps.getBatch(batchIdOf(BigInt(r.coopId), code)) !== null);

  const batchForm = (r: ManagerRequest, values: Body, problems: FieldProblem[]) => {
    const members = services.cooperatives
      .listMembers(r.user, r.coopId)
      .filter((x) => x.active && x.userId !== null)
      .map((x) => ({ userId: x.userId!, displayName: x.displayName }));
    const products = Object.keys(r.c.products);
    const productCode = values.productCode ?? products[0];
    const lotCode = values.lotCode ?? proposeLot(r, productCode);
    return batchFormPage(r.c, {
      products,
      members,
      values: {
        productCode,
        lotCode,
        // The code proposed, sent back: left as it is, it follows the product chosen (no script needed).
        proposedLot: values.proposedLot ?? lotCode,
        unit: values.unit ?? "kg",
        productionDate: values.productionDate ?? new Date().toISOString().slice(0, 10),
        ...values,
      },
      problems,
      csrf: r.csrf,
      once: values[ONCE_FIELD] ?? formKey(),
    });
  };

  const register = (r: ManagerRequest) => {
    const b = { ...r.body };
    // The proposed code left untouched, for another product than the one it was proposed for: that product's.
    const proposed = blank(b.proposedLot);
    if (proposed !== undefined && b.lotCode?.trim() === proposed && b.productCode !== undefined) {
      const own = proposeLot(r, b.productCode);
      if (own.split("-")[0] !== proposed.split("-")[0]) b.lotCode = b.proposedLot = own;
    }
    const { contributors, total, problems } = contributorsOf(r);
    // An empty quantity is the total delivered (what a manager expects); a different one is said beside it.
    const quantity = blank(b.quantity) ?? (total > 0n ? String(total) : undefined);
    const parsed = parseForm(r.c, registerBatchInput, {
      cooperativeId: r.coopId,
      productCode: b.productCode ?? "",
      lotCode: b.lotCode?.trim() ?? "",
      quantity,
      unit: b.unit ?? "",
      origin: b.origin?.trim() ?? "",
      productionDate: b.productionDate ?? "",
      gtin: blank(b.gtin),
      contributors,
    });
    if (!parsed.ok) problems.push(...parsed.problems.filter((p) => !p.field.startsWith("contributors")));
    if (
      quantity !== undefined &&
      /^[0-9]+$/.test(quantity) &&
      total > 0n &&
      BigInt(quantity) !== total &&
      !problems.some((p) => p.field === "quantity")
    )
      problems.push({
        field: "quantity",
        message: r.c.manager.quantityMismatch(quantityText(r.c, total, b.unit ?? "")),
      });
    return submitForm(r, once, {
      parsed,
      problems,
      form: (p) => batchForm(r, b, p),
      write: async (data) => {
        const res = await services.batches.register(r.user, data);
        return `/w/manager/batches/${res.batchId}/done${opQuery(res.outcome)}`;
      },
      // The contract's refusals, beside the field they are about.
      refused: (err) => {
        const refused = revertOf(err);
        if (refused === undefined) return null;
        if (refused.name === "BatchRegistryInvalidTime")
          return [{ field: "productionDate", message: r.c.selling.futureDate }];
        if (refused.name === "BatchRegistryDuplicateLot")
          return [{ field: "lotCode", message: r.c.manager2.lotExists }];
        return [{ field: "lotCode", message: r.c.selling.refused }];
      },
    });
  };

  const registered = (r: ManagerRequest) => {
    // Not indexed yet (the write is on its way): the page says so and offers to look again.
    const id = r.params.batchId;
    if (deps.getBatch(id) === null && r.pending !== null) {
      const unknown = { batchId: id, productCode: "", lotCode: "", gtin: "" };
      return { status: 202, view: batchDonePage(r.c, unknown, r.pending) };
    }
    return { status: 200, view: batchDonePage(r.c, lotOf(r, id), r.pending) };
  };

  return [
    { method: "get", path: "/w/manager/batches/new", handle: (r) => ({ status: 200, view: batchForm(r, {}, []) }) },
    { method: "post", path: "/w/manager/batches", handle: register },
    { method: "get", path: "/w/manager/batches/:batchId/done", handle: registered },
    ...stepPages(deps, lotOf),
  ];
}

/** Recording a step of a lot: its form, the write, its confirmation. */
function stepPages(deps: BatchDeps, lotOf: ReturnType<typeof lotFinder>): ManagerPage[] {
  const { services, once } = deps;
  const stepForm = (r: ManagerRequest, values: Body, problems: FieldProblem[]) =>
    stepFormPage(r.c, {
      batch: lotOf(r, r.params.batchId),
      values: { eventTime: moroccoWallClock(), ...values },
      problems,
      csrf: r.csrf,
      once: values[ONCE_FIELD] ?? formKey(),
    });

  const recordStep = (r: ManagerRequest) => {
    const b = r.body;
    const batch = lotOf(r, r.params.batchId);
    // datetime-local has no offset: the manager types the time on his clock, Morocco's.
    const time = b.eventTime ?? "";
    const eventTime = fromMoroccoWallClock(time) ?? time;
    const parsed = parseForm(r.c, recordEventInput, {
      bizStep: b.bizStep ?? "",
      location: b.location?.trim() ?? "",
      eventTime,
    });
    return submitForm(r, once, {
      parsed,
      form: (p) => stepForm(r, b, p),
      write: async (data) => {
        const res = await services.batches.recordEvent(r.user, batch.batchId, data);
        const op = opQuery(res.outcome, "&");
        return `/w/manager/batches/${batch.batchId}/step/done?step=${encodeURIComponent(data.bizStep)}${op}`;
      },
      // The contract's refusals, beside the field they are about.
      refused: (err) => {
        const refused = revertOf(err);
        if (refused === undefined) return null;
        const message = refused.name === "BatchRegistryInvalidTime" ? r.c.selling.futureDate : r.c.selling.refused;
        return [{ field: "eventTime", message }];
      },
    });
  };

  const stepDone = (r: ManagerRequest) => {
    const step = r.query.step?.slice(0, 64) ?? "other";
    return { status: 200, view: stepDonePage(r.c, lotOf(r, r.params.batchId), step, r.pending) };
  };

  return [
    {
      method: "get",
      path: "/w/manager/batches/:batchId/step",
      handle: (r) => ({ status: 200, view: stepForm(r, {}, []) }),
    },
    { method: "post", path: "/w/manager/batches/:batchId/step", handle: recordStep },
    { method: "get", path: "/w/manager/batches/:batchId/step/done", handle: stepDone },
  ];
}
