/**
 * The verify page of one batch, for people first (issue 14): the product, its cooperative and origin,
 * where the money went in words, the journey, certifications by name, the sales; then one "check it
 * yourself" section at the end that holds every proof (blocks, transactions, addresses, the chain's
 * number, the verifier command). No `0x…`, block number or chain id appears above that section.
 * Every user-supplied value goes through `html` (escaped) and sits in <bdi> so a Latin name reads right
 * inside an Arabic sentence and the reverse; hashes and addresses are left-to-right code.
 */
import { ZERO_ADDRESS as ZeroAddress } from "../../chain/address";
import type { ChainRef, SaleDetail, SaleStep } from "../../index";
import { html, type Html } from "../html";
import { productName, stepName, unitName, type Catalog, type Lang } from "../i18n";
import { formatterFor, quantity, type Formatter } from "../format";
import { sharesOf100 } from "../../../domain/money";
import { unitOf } from "./money";
import type { VerifyModel } from "../model";
import { layout } from "./layout";
import { figureRow, table } from "./table";
import { placeLabel } from "../../../domain/regions";

interface Ctx {
  c: Catalog;
  f: Formatter;
  m: VerifyModel;
  lang: Lang;
}

/** A fact of the page and where the chain records it (listed in the "check it yourself" section). */
interface Fact {
  what: string;
  chain: ChainRef;
}

function explorerLink(x: Ctx, kind: "tx" | "address", id: string): Html | string {
  const base = x.m.network.explorerUrl;
  return base === null ? "" : html` · <a href="${`${base}/${kind}/${id}`}" rel="noopener">${x.c.plain.onExplorer}</a>`;
}

function factItem(x: Ctx, fact: Fact): Html {
  const { c, f } = x;
  return html`<li>
    <strong>${fact.what}</strong> · <span class="when">${f.dateTime(fact.chain.blockTime)}</span>
    <dl>
      <dt>${c.proof.block}</dt>
      <dd dir="ltr">${String(fact.chain.blockNumber)}</dd>
      <dt>${c.proof.tx}</dt>
      <dd><code dir="ltr">${fact.chain.txHash}</code>${explorerLink(x, "tx", fact.chain.txHash)}</dd>
    </dl>
  </li>`;
}

/** Every fact the page states, in the order of the chain. */
function factsOf(x: Ctx): Fact[] {
  const { c, m } = x;
  const b = m.batch;
  const facts: Fact[] = [];
  if (b.cooperative !== null) facts.push({ what: c.plain.factCooperative, chain: b.cooperative.chain });
  facts.push({ what: c.plain.factRegistered, chain: b.chain });
  for (const e of b.events) facts.push({ what: stepName(c, e.bizStep), chain: e.chain });
  for (const cert of b.certifications) {
    facts.push({ what: c.plain.factCertified(cert.scheme), chain: cert.chain });
    if (cert.revocation) facts.push({ what: c.plain.factRevoked(cert.scheme), chain: cert.revocation.chain });
  }
  for (const l of [...b.parents, ...b.children]) facts.push({ what: c.plain.factLineage, chain: l.chain });
  for (const sale of b.sales) {
    for (const st of sale.steps)
      facts.push({
        what: c.plain.factSale(c.sales.sale(x.f.integer(sale.saleId)), stepLabel(c, st.step)),
        chain: st.chain,
      });
  }
  return facts.sort((a, z) => a.chain.blockNumber - z.chain.blockNumber || a.chain.logIndex - z.chain.logIndex);
}

function quantityOf(x: Ctx, value: string): string {
  return quantity(x.c, value, x.m.batch.unit);
}

function banners(x: Ctx): Html {
  const { c, f, m } = x;
  const confirmed = html`<div class="banner ok" role="status" id="confirmed">
    <strong>✓ ${c.status.confirmedTitle}</strong>
    ${c.plain.checked(f.dateTime(Math.floor(m.check.checkedAt / 1000)))}
    <a href="#verify-yourself">${c.yourself.title}</a>
  </div>`;
  const dispute =
    m.disputedSales.length > 0
      ? html`<div class="banner warn" role="alert" id="dispute">
          <strong>⚠ ${c.status.disputeTitle}</strong>${c.status.disputeText}
        </div>`
      : "";
  return html`${confirmed}${dispute}`;
}

/** What it is, who made it, where and when: the first screen, with the money just below. */
function summary(x: Ctx): Html {
  const { c, f, m } = x;
  const b = m.batch;
  return html`<section aria-labelledby="product">
    <h1 id="product"><bdi>${productName(c, b.productCode)}</bdi></h1>
    ${
      b.cooperative !== null
        ? html`<p class="lead">
            <bdi>${b.cooperative.name}</bdi>${
              b.cooperative.womenLed ? html` <span class="badge women">${c.cooperative.womenLed}</span>` : ""
            }
          </p>`
        : ""
    }
    <dl class="facts">
      ${
        b.origin !== ""
          ? html`<dt>${c.batch.origin}</dt>
              <dd><bdi>${b.origin}</bdi></dd>`
          : ""
      }
      <dt>${c.batch.productionDate}</dt>
      <dd>${f.date(b.productionDate)}</dd>
      <dt>${c.batch.lot}</dt>
      <dd><bdi class="mono code">${b.lotCode}</bdi></dd>
    </dl>
  </section>`;
}

/** The lot's quantities and product code, below the story. */
function lotDetails(x: Ctx): Html {
  const { c, m } = x;
  const b = m.batch;
  return html`<section aria-labelledby="lot-h" id="lot">
    <h2 id="lot-h">${c.plain.lotTitle}</h2>
    <dl class="facts">
      <dt>${c.batch.quantity}</dt>
      <dd>${quantityOf(x, b.quantity)}</dd>
      ${
        b.available !== b.quantity
          ? html`<dt>${c.batch.available}</dt>
              <dd>${quantityOf(x, b.available)}</dd>`
          : ""
      }
      ${
        b.gtin !== "0"
          ? html`<dt>${c.batch.gtin}</dt>
              <dd><bdi class="code" dir="ltr">${b.gtin.padStart(14, "0")}</bdi></dd>`
          : ""
      }
    </dl>
  </section>`;
}

function cooperative(x: Ctx): Html {
  const { c, f, m } = x;
  const coop = m.batch.cooperative;
  if (coop === null) return html``;
  return html`<section aria-labelledby="coop" id="cooperative">
    <h2 id="coop">${c.cooperative.title}</h2>
    <p class="lead">
      <strong><bdi>${coop.name}</bdi></strong>
    </p>
    <dl class="facts">
      <dt>${c.cooperative.region}</dt>
      <dd><bdi>${placeLabel(coop.region, c.lang)}</bdi></dd>
    </dl>
    <p>${c.cooperative.members(coop.memberCount)}</p>
    <p>${c.cooperative.contributors(m.batch.contributors.length)}</p>
    <p>${c.cooperative.reserveRate(f.percent(coop.reserveBps))}</p>
  </section>`;
}

function journey(x: Ctx): Html {
  const { c, f, m } = x;
  const entries: { time: number; what: string; place: string; chain: ChainRef }[] = [
    { time: m.batch.chain.blockTime, what: c.journey.registered, place: "", chain: m.batch.chain },
    ...m.batch.events.map((e) => ({
      time: e.eventTime,
      what: stepName(c, e.bizStep),
      place: e.location,
      chain: e.chain,
    })),
  ].sort((a, b) => a.time - b.time || a.chain.blockNumber - b.chain.blockNumber || a.chain.logIndex - b.chain.logIndex);
  return html`<section aria-labelledby="journey-h" id="journey">
    <h2 id="journey-h">${c.journey.title}</h2>
    ${m.batch.events.length === 0 ? html`<p class="note">${c.journey.none}</p>` : ""}
    <ol class="timeline">
      ${entries.map(
        (e) =>
          html`<li>
            <span class="when">${f.date(e.time)}</span><span class="what">${e.what}</span>${
              e.place ? html` · <bdi>${e.place}</bdi>` : ""
            }
          </li>`,
      )}
    </ol>
  </section>`;
}

function certifications(x: Ctx): Html {
  const { c, f, m } = x;
  const items = m.batch.certifications.map((cert) => {
    const state = m.certificationStates.get(cert.certificationId) ?? "expired";
    const name = m.certifiers.get(cert.certifier.toLowerCase());
    const until = BigInt(cert.validUntil);
    // Dates past year 9999 do not format; they mean "no end" in practice.
    const untilText = until > 253_402_300_799n ? c.certifications.noEnd : f.date(Number(until));
    const when =
      state === "revoked" && cert.revocation
        ? c.certifications.revokedOn(f.date(cert.revocation.chain.blockTime))
        : state === "expired"
          ? c.certifications.expiredOn(untilText)
          : c.certifications.validUntil(untilText);
    return html`<li class="cert ${state}">
      <strong><bdi>${cert.scheme}</bdi></strong> <span class="badge ${state}">${c.certifications[state]}</span>
      <p class="note">${when}</p>
      ${state === "revoked" ? html`<p class="banner bad" role="alert">⚠ ${c.certifications.revokedWarning}</p>` : ""}
      ${name !== undefined ? html`<p class="note">${c.plain.certifiedBy(name)}</p>` : ""}
    </li>`;
  });
  return html`<section aria-labelledby="certs-h" id="certifications">
    <h2 id="certs-h">${c.certifications.title}</h2>
    ${
      items.length === 0
        ? html`<p class="note">${c.certifications.none}</p>`
        : html`<ul class="plain">
            ${items}
          </ul>`
    }
  </section>`;
}

function lineage(x: Ctx): Html {
  const { c, f, m } = x;
  const { parents, children } = m.batch;
  if (parents.length === 0 && children.length === 0) return html``;
  const list = (links: typeof parents) =>
    html`<ul class="plain">
      ${links.map((l) => {
        const label = m.labels.get(l.batchId);
        const name = label
          ? html`<bdi>${productName(c, label.productCode)}</bdi> · <bdi class="mono">${label.lotCode}</bdi>`
          : c.plain.factLineage;
        const unit = label ? unitName(c, label.unit) : "";
        return html`<li>
          <a href="${`/b/${l.batchId}?lang=${x.lang}`}">${name}</a> — ${f.integer(l.quantity)} ${unit}
          (${l.kind === "split" ? c.lineage.split : c.lineage.merge})
        </li>`;
      })}
    </ul>`;
  return html`<section aria-labelledby="lineage-h" id="lineage">
    <h2 id="lineage-h">${c.lineage.title}</h2>
    ${
      parents.length > 0
        ? html`<p><strong>${c.lineage.madeFrom}</strong></p>
            ${list(parents)}`
        : ""
    }
    ${
      children.length > 0
        ? html`<p><strong>${c.lineage.madeInto}</strong></p>
            ${list(children)}`
        : ""
    }
  </section>`;
}

/**
 * A step is named by the state it leads to (a step "funded" by the state Funded), but for "confirmed":
 * the buyer's receipt, a step with no state of its own.
 */
function stepLabel(c: Catalog, step: SaleStep): string {
  if (step === "confirmed") return c.sales.confirmed;
  const state = (step.charAt(0).toUpperCase() + step.slice(1)) as Capitalize<typeof step>;
  return c.sales.states[state];
}

function sale(x: Ctx, s: SaleDetail): Html {
  const { c, f, m } = x;
  const token = m.tokens.get(s.token)!;
  const money = (raw: string) => html`<bdi dir="ltr">${f.money(raw, token)}</bdi>`;
  // The price of a sale in another currency also in dirhams, at the platform's reference rate.
  const rate = token.currency ? m.rates.get(token.currency) : undefined;
  const priced = (raw: string) =>
    rate === undefined
      ? money(raw)
      : html`${money(raw)}
          <span class="note"
            >${c.sales.dirhamEquivalent(
              f.dirhams(raw, token, rate.rateE6),
              f.amount(rate.rateE6, 6),
              unitOf(c, rate.currency),
              rate.source,
              f.date(Number(rate.asOf)),
            )}</span
          >`;
  const releases = s.releases.map(
    (r) =>
      html`${table({
          cls: "split",
          caption: { content: c.sales.shareTitle, cls: "note" },
          rows: [
            figureRow(c.sales.gross, money(r.gross)),
            figureRow(c.sales.fee(f.percent(s.feeBps)), money(r.fee)),
            figureRow(c.sales.reserve(f.percent(s.reserveBps)), money(r.reserve)),
            figureRow(c.sales.net, money(r.net), "members"),
          ],
        })}
        <p class="note">${c.sales.netNote(m.batch.contributors.length)}</p>`,
  );
  const open = s.state === "Created" || s.state === "Funded" || s.state === "Shipped" || s.state === "Disputed";
  return html`<li class="sale" id="${`sale-${s.saleId}`}">
    <p>
      <strong>${c.sales.sale(f.integer(s.saleId))}</strong>
      <span class="badge state">${c.sales.states[s.state]}</span>${
        s.state === "Created" && s.buyer !== ZeroAddress ? html` <span class="note">${c.sales.reserved}</span>` : ""
      }
    </p>
    <dl class="facts">
      <dt>${c.sales.quantity}</dt>
      <dd>${quantityOf(x, s.quantity)}</dd>
      <dt>${c.sales.price}</dt>
      <dd>${priced(s.price)}</dd>
    </dl>
    ${s.dispute !== null ? html`<p class="${s.dispute.resolution ? "note" : "banner warn"}">${s.dispute.resolution ? c.sales.disputeResolved(f.percent(s.dispute.resolution.refundBps)) : c.sales.disputeOpen}</p>` : ""}
    ${releases} ${s.releases.length === 0 && open ? html`<p class="note">${c.sales.notPaidYet}</p>` : ""}
    ${s.refunds.map((r) => html`<p>${c.sales.refunded}: ${money(r.amount)}</p>`)}
    <ol class="steps">
      ${s.steps.map(
        (st) =>
          html`<li>
            <strong>${stepLabel(c, st.step)}</strong> ·
            <span class="when">${f.dateTime(st.chain.blockTime)}</span>
          </li>`,
      )}
    </ol>
  </li>`;
}

function sales(x: Ctx): Html {
  const { c, m } = x;
  return html`<section aria-labelledby="sales-h" id="sales">
    <h2 id="sales-h">${c.sales.title}</h2>
    ${
      m.batch.sales.length === 0
        ? html`<p class="note">${c.sales.none}</p>`
        : html`<ul class="plain">
            ${m.batch.sales.map((s) => sale(x, s))}
          </ul>`
    }
  </section>`;
}

/**
 * Where the money went, in words, above the fold: per currency over the lot's released sales, of each
 * 100 paid how much went to the members who worked on the lot, the cooperative's reserve and the
 * platform (whole numbers that add up to 100), then how many members confirmed being paid.
 */
function shared(x: Ctx): Html {
  const { c, f, m } = x;
  const byToken = new Map<string, { gross: bigint; net: bigint; reserve: bigint; fee: bigint }>();
  for (const sale of m.batch.sales) {
    for (const r of sale.releases) {
      const t = byToken.get(sale.token) ?? { gross: 0n, net: 0n, reserve: 0n, fee: 0n };
      t.gross += BigInt(r.gross);
      t.net += BigInt(r.net);
      t.reserve += BigInt(r.reserve);
      t.fee += BigInt(r.fee);
      byToken.set(sale.token, t);
    }
  }
  const workers = m.batch.contributors.length;
  const who = m.batch.cooperative?.womenLed ? c.plain.womenWho(workers) : c.plain.membersWho(workers);
  const sentences = [...byToken].map(([token, t]) => {
    const [net, reserve, fee] = sharesOf100([t.net, t.reserve, t.fee]);
    const currency = m.tokens.get(token)?.currency;
    const n = (v: number) => f.integer(v);
    const first =
      currency && currency !== "ETH"
        ? c.plain.perHundred(f.hundred(currency), n(net), who)
        : c.plain.perCent(f.percent(net * 100), who);
    return html`<p class="lead">${first}</p>
      <p>${c.plain.rest(n(reserve), n(fee))}</p>`;
  });
  return html`<section aria-labelledby="shared-h" id="shared">
    <h2 id="shared-h">${c.plain.sharedTitle}</h2>
    ${sentences.length > 0 ? sentences : html`<p>${m.batch.children.length > 0 ? c.plain.madeIntoOthers : c.plain.noPaymentYet}</p>`}
    ${paidToMembers(x)}
  </section>`;
}

/**
 * How the lot's members were paid by their cooperative for this lot, in words, naming nobody (issue 13):
 * only this lot's shares, in the currencies of this lot's sales (services.payouts.lotSummary).
 */
function paidToMembers(x: Ctx): Html | string {
  const { c, f, m } = x;
  const p = m.payouts;
  if (p === null || m.batch.sales.every((s) => s.releases.length === 0)) return "";
  // Plain text inside the sentence (escaped with it); Intl's own direction marks keep the amount whole.
  const remaining = p.outstanding
    .filter((o) => o.decimals !== null)
    .map((o) => f.money(o.amount, { symbol: o.currency ?? "", decimals: o.decimals!, currency: o.currency }));
  return html`<h3 id="paid-to-members">${c.sales.payoutsTitle}</h3>
    <p>${c.sales.payoutsConfirmed(p.confirmed, { members: c.sales.memberCount(p.members) })}</p>
    ${p.contested > 0 ? html`<p class="banner warn" id="payouts-contested">${c.sales.payoutsContested(p.contested)}</p>` : ""}
    <p>${remaining.length === 0 ? c.sales.nothingRemains : c.sales.remainsToPay(remaining.join(" + "))}</p>
    <p class="note">${c.sales.payoutsOldestFirst}</p>`;
}

/** Every proof of the page, and how to check it without this site (issue 14: one section, at the end). */
function yourself(x: Ctx, rpcKnown: boolean): Html {
  const { c, f, m } = x;
  const network =
    m.network.name ?? (m.network.embedded ? c.plain.demoNetwork : c.plain.numberedNetwork(String(m.check.chainId)));
  const facts = factsOf(x);
  return html`<section aria-labelledby="yourself-h" id="verify-yourself">
    <h2 id="yourself-h">${c.yourself.title}</h2>
    <p>${c.plain.checkIntro(network, f.dateTime(Math.floor(m.check.checkedAt / 1000)))}</p>
    ${m.network.embedded ? html`<p class="note">${c.plain.demoNote}</p>` : ""}
    <p class="note">${c.plain.checkedUpTo(String(m.check.indexedBlock), String(m.check.chainId))}</p>
    <details class="proof" id="facts">
      <summary>${c.plain.factsTitle(facts.length)}</summary>
      <ol class="proofs">
        ${facts.map((fact) => factItem(x, fact))}
      </ol>
    </details>
    <p>${rpcKnown ? c.plain.commandWithRpc : c.plain.commandWithoutRpc(network)}</p>
    <pre class="cmd" dir="ltr"><code>${m.verifyCommand}</code></pre>
    <p>${c.yourself.deploymentHint}</p>
    <ul class="plain contracts">
      ${m.contracts.map(
        (k) =>
          html`<li>
            <strong dir="ltr">${k.name}</strong><br /><code class="addr" dir="ltr">${k.address}</code>${explorerLink(
              x,
              "address",
              k.address,
            )}<br /><span class="note">${c.yourself.deployedAt(f.integer(k.blockNumber))}</span>
          </li>`,
      )}
    </ul>
    <p><a href="${m.links.json}" type="application/json">${c.yourself.json}</a></p>
  </section>`;
}

export function verifyPage(m: VerifyModel, c: Catalog, hrefFor: (lang: Lang) => string, rpcKnown: boolean): string {
  const x: Ctx = { c, f: formatterFor(c), m, lang: c.lang };
  // People first: what it is and where the money went on the first screen; the proof at the end.
  const body = html`${banners(x)}${summary(x)}${shared(x)}${journey(x)}${certifications(x)}${lotDetails(x)}${cooperative(x)}${lineage(x)}${sales(x)}${yourself(x, rpcKnown)}`;
  return layout({ c, title: `${productName(c, m.batch.productCode)} · ${m.batch.lotCode}`, hrefFor, body });
}
