/**
 * The certifier's pages (issue 12): certify a lot, found by its cooperative and lot code (the words on the
 * label, not a hash), with a scheme from a short list, the certificate's reference and its end of validity;
 * then withdraw one of his certifications with a reason.
 *
 * The chain keeps hashes: the certificate reference and the reason are hashed (keccak-256 of their text)
 * so that whoever holds the paper can check it against the lot's page. The forms are parsed with the
 * API's `certifyInput` and `revokeCertificationInput`.
 */
import { keccak256, stringToBytes } from "viem";

/** keccak256 of the UTF-8 text (what ethers called `id`). */
const textHash = (text: string) => keccak256(stringToBytes(text));
import { batchIdOf } from "../../../domain/batchId";
import { html, type Html } from "../../pages/html";
import { productName, type Catalog } from "../../pages/i18n";
import { requireRole } from "../../services/access";
import { certifyInput, revokeCertificationInput } from "../../services/batches";
import { DomainError } from "../../services/errors";
import type { Services } from "../../services";
import { formKey, ONCE_FIELD, onceFields, parseForm, submitForm, type FormOnce } from "../forms";
import { doneStore, type View, type WebPage, type WebRequest } from "../page";
import { progressBanner, type PendingWrite } from "../progress";
import { errorSummary, field, radios, type FieldProblem } from "../views/components";
import { q } from "./admin";

/** The schemes a certifier of the region issues; the chain stores the words, so they stay the same in every language. */
export const SCHEMES = { aop: "AOP/IGP", organic: "Organic", food: "Food safety" } as const;
type SchemeKey = keyof typeof SCHEMES;

interface Values {
  [k: string]: string | undefined;
}

function certifyForm(
  c: Catalog,
  m: { values: Values; problems: FieldProblem[]; csrf: Html; coops: { id: number; name: string }[] },
): View {
  const t = c.roles2;
  const err = (id: string) => m.problems.find((p) => p.field === id)?.message;
  const choice = (name: string, legend: string, options: [string, string][]) =>
    radios({
      name,
      legend,
      error: err(name),
      options: options.map(([value, label]) => [value, html`<bdi>${label}</bdi>`]),
      checked: m.values[name],
    });
  const body = html`${errorSummary(c, m.problems)}
    <form method="post" action="/w/certifier/certifications" novalidate>
      ${onceFields(m.csrf, m.values[ONCE_FIELD] ?? formKey())}
      <h1>${t.certifyTitle}</h1>
      ${choice(
        "cooperativeId",
        t.cooperative,
        m.coops.map((x) => [String(x.id), x.name]),
      )}
      ${field({ id: "lotCode", label: t.lotCode, hint: t.lotCodeHint, value: m.values.lotCode, error: err("lotCode"), ltr: true })}
      ${choice(
        "scheme",
        t.scheme,
        (Object.keys(SCHEMES) as SchemeKey[]).map((k) => [k, t.schemes[k]]),
      )}
      ${field({ id: "reference", label: t.reference, hint: t.referenceHint, value: m.values.reference, error: err("reference"), ltr: true })}
      ${field({ id: "validUntil", label: t.validUntil, value: m.values.validUntil, error: err("validUntil"), hint: new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 10), ltr: true })}
      <button type="submit" class="button big">${t.certify}</button>
    </form>
    <p><a href="${q(c, "/w")}">${c.roles.back}</a></p>`;
  return { title: t.certifyTitle, body };
}

function certifiedPage(
  c: Catalog,
  d: { batchId: string; productCode: string; lotCode: string; certificationId: number | null },
  pending: PendingWrite | null,
): View {
  const t = c.roles2;
  const body = html`<div class="panel confirmation" id="certified">
      <h1>${pending !== null ? c.roles.pending : t.certifiedTitle}</h1>
      <p>${productName(c, d.productCode)} · <bdi dir="ltr">${d.lotCode}</bdi></p>
    </div>
    ${progressBanner(c, pending, c.roles.lookAgain)}
    <p>${t.certifiedText}</p>
    <ul class="links">
      <li><a id="lot-page" href="${q(c, `/b/${d.batchId}`)}">${t.openLot}</a></li>
      ${
        d.certificationId === null
          ? ""
          : html`<li>
              <a id="revoke-link" href="${q(c, `/w/certifier/certifications/${d.certificationId}/revoke`)}"
                >${t.openRevoke}</a
              >
            </li>`
      }
      <li><a href="${q(c, "/w/certifier/certifications/new")}">${t.openCertify}</a></li>
      <li><a href="${q(c, "/w")}">${c.roles.back}</a></li>
    </ul>`;
  return { title: t.certifiedTitle, body };
}

function revokeForm(c: Catalog, m: { id: number; values: Values; problems: FieldProblem[]; csrf: Html }): View {
  const t = c.roles2;
  const body = html`${errorSummary(c, m.problems)}
    <form method="post" action="${`/w/certifier/certifications/${m.id}/revoke`}" novalidate>
      ${onceFields(m.csrf, m.values[ONCE_FIELD] ?? formKey())}
      <h1>${t.revokeTitle}</h1>
      ${field({
        id: "reason",
        label: t.reason,
        hint: t.reasonHint,
        value: m.values.reason,
        error: m.problems.find((p) => p.field === "reason")?.message,
      })}
      <button type="submit" class="button big warning">${t.revoke}</button>
    </form>
    <p><a href="${q(c, "/w")}">${c.roles.back}</a></p>`;
  return { title: t.revokeTitle, body };
}

function revokedPage(c: Catalog, pending: PendingWrite | null): View {
  const t = c.roles2;
  const body = html`<div class="panel confirmation" id="revoked">
      <h1>${pending !== null ? c.roles.pending : t.revokedTitle}</h1>
    </div>
    ${progressBanner(c, pending, c.roles.lookAgain)}
    <p>${t.revokedText}</p>
    <ul class="links">
      <li><a href="${q(c, "/w/certifier/certifications/new")}">${t.openCertify}</a></li>
      <li><a href="${q(c, "/w")}">${c.roles.back}</a></li>
    </ul>`;
  return { title: t.revokedTitle, body };
}

/** A certification's confirmation: the lot, and the write while the chain has not recorded it. */
interface Certified {
  batchId: string;
  productCode: string;
  lotCode: string;
  certificationId: number | null;
  /** The write not yet mined when the page was answered (null if it was): looked up on each visit. */
  operationId: string | null;
}

export function certifierPages(services: Services, once: FormOnce): WebPage[] {
  return [...certifyPages(services, once), ...revokePages(services, once)];
}

const coopsOf = (services: Services) =>
  services.cooperatives.list({ limit: 100, offset: 0 }).items.map((x) => ({ id: x.cooperativeId, name: x.name }));

/**
 * The certify form's fields, checked in words (which cooperative, lot, scheme, reference, until when), and
 * the lot they name, when they are right.
 */
function certifyFields(services: Services, r: WebRequest) {
  const b = r.body;
  const problems: FieldProblem[] = [];
  const t = r.c.roles2;
  const coopId = Number(b.cooperativeId);
  if (!coopsOf(services).some((x) => x.id === coopId))
    problems.push({ field: "cooperativeId", message: t.cooperativeMissing });
  const lot = (b.lotCode ?? "").trim();
  if (lot === "") problems.push({ field: "lotCode", message: t.lotCodeMissing });
  const scheme = SCHEMES[b.scheme as SchemeKey] as string | undefined;
  if (scheme === undefined) problems.push({ field: "scheme", message: t.schemeMissing });
  const reference = (b.reference ?? "").trim();
  if (reference === "") problems.push({ field: "reference", message: t.referenceMissing });
  const until = (b.validUntil ?? "").trim();
  if (!/^\d{4}-\d{2}-\d{2}$/.test(until) || !(Date.parse(until) > Date.now()))
    problems.push({ field: "validUntil", message: t.validUntilBad });
  let batch: { batchId: string; productCode: string; lotCode: string } | undefined;
  if (problems.length === 0) {
    try {
      batch = services.batches.get(batchIdOf(BigInt(coopId), lot));
    } catch (err) {
      if (!(err instanceof DomainError) || err.kind !== "not_found") throw err;
      problems.push({ field: "lotCode", message: t.lotNotFound });
    }
  }
  return { problems, batch, scheme: scheme ?? "", reference, until };
}

/** Certify a lot: GET/POST /w/certifier/certifications(/new) → its confirmation. */
function certifyPages(services: Services, once: FormOnce): WebPage[] {
  const done = doneStore<Certified>();
  const form = (r: WebRequest, values: Values, problems: FieldProblem[]) =>
    certifyForm(r.c, { values, problems, csrf: r.csrf, coops: coopsOf(services) });

  const certify = (r: WebRequest) => {
    requireRole(r.user, "certifier");
    const { problems, batch, scheme, reference, until } = certifyFields(services, r);
    const parsed = parseForm(r.c, certifyInput, {
      scheme,
      certificateHash: textHash(reference),
      validUntil: until,
    });
    if (!parsed.ok) problems.push(...parsed.problems);
    return submitForm(r, once, {
      parsed,
      problems,
      form: (p) => form(r, { ...r.body }, p),
      write: async (data) => {
        // Fields without a problem name a lot (certifyFields).
        const lot = batch!;
        const res = await services.batches.certify(r.user, lot.batchId, data);
        const key = done.put(r.user.id, {
          batchId: lot.batchId,
          productCode: lot.productCode,
          lotCode: lot.lotCode,
          certificationId: res.certificationId === null ? null : Number(res.certificationId),
          operationId: res.outcome.status === "mined" ? null : res.outcome.operationId,
        });
        return `/w/certifier/certifications/done/${key}`;
      },
    });
  };

  return [
    {
      method: "get",
      path: "/w/certifier/certifications/new",
      handle: (r) => {
        requireRole(r.user, "certifier");
        return { status: 200, view: form(r, {}, []) };
      },
    },
    { method: "post", path: "/w/certifier/certifications", handle: certify },
    {
      method: "get",
      path: "/w/certifier/certifications/done/:id",
      handle: (r) => {
        const d = done.own(r.user.id, r.params.id);
        const self = q(r.c, `/w/certifier/certifications/done/${r.params.id}`);
        return { status: 200, view: certifiedPage(r.c, d, r.progress(d.operationId, self)) };
      },
    },
  ];
}

/** Withdraw a certification with a reason: GET/POST /w/certifier/certifications/:id/revoke → its confirmation. */
function revokePages(services: Services, once: FormOnce): WebPage[] {
  const revoked = doneStore<{ operationId: string | null }>();
  const certificationId = (r: WebRequest) => {
    const n = Number(r.params.id);
    if (!Number.isSafeInteger(n) || n < 1) throw new DomainError("not_found", "not_found", "no such certification");
    return n;
  };

  const revoke = (r: WebRequest) => {
    requireRole(r.user, "certifier");
    const id = certificationId(r);
    const values = { ...r.body };
    const reason = (r.body.reason ?? "").trim();
    const form = (problems: FieldProblem[]) => revokeForm(r.c, { id, values, problems, csrf: r.csrf });
    if (reason === "") return { status: 400, view: form([{ field: "reason", message: r.c.roles2.reasonMissing }]) };
    const parsed = parseForm(r.c, revokeCertificationInput, { reasonHash: textHash(reason) });
    return submitForm(r, once, {
      parsed,
      form,
      write: async (data) => {
        const res = await services.batches.revokeCertification(r.user, id, data);
        const key = revoked.put(r.user.id, {
          operationId: res.outcome.status === "mined" ? null : res.outcome.operationId,
        });
        return `/w/certifier/revoked/${key}`;
      },
    });
  };

  return [
    {
      method: "get",
      path: "/w/certifier/certifications/:id/revoke",
      handle: (r) => {
        requireRole(r.user, "certifier");
        const id = certificationId(r);
        return { status: 200, view: revokeForm(r.c, { id, values: {}, problems: [], csrf: r.csrf }) };
      },
    },
    { method: "post", path: "/w/certifier/certifications/:id/revoke", handle: revoke },
    {
      method: "get",
      path: "/w/certifier/revoked/:id",
      handle: (r) => {
        const d = revoked.own(r.user.id, r.params.id);
        return {
          status: 200,
          view: revokedPage(r.c, r.progress(d.operationId, q(r.c, `/w/certifier/revoked/${r.params.id}`))),
        };
      },
    },
  ];
}
