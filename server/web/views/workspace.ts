/**
 * The signed-in home (/w): who you are, your role in words, your cooperative, and what your role can
 * see today. A member sees her money (her share of each sale of the lots she helped make: earned, paid,
 * still owed) in her language's numbers; a manager his cooperative's members and lots; an auditor the
 * way to the audit pages. Only pages that exist are linked.
 */
import type { Role } from "../../custody/users";
import { html, type Html } from "../../pages/html";
import { productName, type Catalog } from "../../pages/i18n";
import { formatterFor, quantity } from "../../pages/format";
import type { BatchLine } from "../manager/views";
import { lotPath } from "./home";
import { amountHtml, type AmountToken } from "./components";
import { placeLabel } from "../../../domain/regions";

export interface MoneyLine {
  batchId: string;
  productCode: string;
  lotCode: string;
  gtin: string;
  /** Her weight over the lot's total weight, in basis points. */
  partBps: number;
  token: AmountToken;
  /** Raw amounts in the token's smallest unit. */
  earned: bigint;
  paid: bigint;
  due: bigint;
}

export interface WorkspaceModel {
  displayName: string;
  role: Role;
  cooperative: { name: string; region: string; womenLed: boolean } | null;
  /** A member's money, one line per lot and currency. */
  money?: MoneyLine[];
  /** A manager's cooperative. */
  manager?: {
    members: { displayName: string | null; account: string }[];
    batches: BatchLine[];
    batchTotal: number;
  };
  auditor: boolean;
}

function money(c: Catalog, lines: MoneyLine[]): Html {
  const w = c.workspace;
  const f = formatterFor(c);
  const amount = (raw: bigint, t: MoneyLine["token"]) => amountHtml(c, raw, t);
  return html`<section id="money" aria-labelledby="money-title">
    <h2 id="money-title">${w.moneyTitle}</h2>
    <p>${w.moneyIntro}</p>
    <ul class="links member-links">
      <li><a class="button" id="member-money" href="${`/w/member/money?lang=${c.lang}`}">${c.roles.openMoney}</a></li>
      <li>
        <a class="button" id="member-payouts" href="${`/w/member/payouts?lang=${c.lang}`}">${c.payouts.memberLink}</a>
      </li>
      <li><a id="member-deliveries" href="${`/w/member/deliveries?lang=${c.lang}`}">${c.roles.openDeliveries}</a></li>
    </ul>
    ${
      lines.length === 0
        ? html`<p>${w.noMoney}</p>`
        : html`<ul class="plain money-lines">
            ${lines.map(
              (l) =>
                html`<li data-batch="${l.batchId}">
                  <a href="${`${lotPath(l)}?lang=${c.lang}`}"
                    >${productName(c, l.productCode)} · <bdi dir="ltr">${l.lotCode}</bdi></a
                  >
                  <span class="note">${w.part(f.percent(l.partBps))}</span>
                  <dl class="money">
                    <dt>${w.earned}</dt>
                    <dd class="earned">${amount(l.earned, l.token)}</dd>
                    <dt>${w.paid}</dt>
                    <dd class="paid">${amount(l.paid, l.token)}</dd>
                    <dt>${w.due}</dt>
                    <dd class="due">${amount(l.due, l.token)}</dd>
                  </dl>
                </li>`,
            )}
          </ul>`
    }
  </section>`;
}

function managerSections(c: Catalog, m: NonNullable<WorkspaceModel["manager"]>): Html {
  const w = c.workspace;
  return html`<p>
      <a class="button" id="manager-dashboard" href="${`/w/manager?lang=${c.lang}`}">${c.manager.openDashboard}</a>
    </p>
    <p><a id="manager-money" href="${`/w/manager/money?lang=${c.lang}`}">${c.payouts.managerLink}</a></p>
    <section id="members" aria-labelledby="members-title">
      <h2 id="members-title">${w.membersTitle}</h2>
      <p>${w.memberCount(m.members.length)}</p>
      ${
        m.members.length === 0
          ? ""
          : html`<ul class="plain">
              ${m.members.map(
                (x) =>
                  html`<li data-account="${x.account}">
                    ${x.displayName === null ? w.unnamed : html`<bdi>${x.displayName}</bdi>`}
                  </li>`,
              )}
            </ul>`
      }
    </section>
    <section id="batches" aria-labelledby="batches-title">
      <h2 id="batches-title">${w.batchesTitle}</h2>
      <p>${w.batchCount(m.batchTotal)}</p>
      ${
        m.batches.length === 0
          ? ""
          : html`<ul class="links">
              ${m.batches.map(
                (b) =>
                  html`<li data-batch="${b.batchId}">
                    <a href="${`${lotPath(b)}?lang=${c.lang}`}"
                      >${productName(c, b.productCode)} · <bdi dir="ltr">${b.lotCode}</bdi></a
                    >
                    <span class="note"
                      >${c.batch.quantity}: ${quantity(c, b.quantity, b.unit)} ·
                      ${w.available(`${quantity(c, b.available, b.unit)}`)}</span
                    >
                    <a class="sell" href="${`/w/manager/sales/new?batch=${b.batchId}&lang=${c.lang}`}"
                      >${c.buying.sell}</a
                    >
                  </li>`,
              )}
            </ul>`
      }
    </section>`;
}

/** The way in of a role whose work starts from one page (the registrar, admin, certifier, arbiter). */
function roleEntry(c: Catalog, role: Role): Html {
  const entries: Partial<Record<Role, [id: string, path: string, label: string]>> = {
    registrar: ["registrar-register", "/w/registrar/cooperatives/new", c.roles.openRegister],
    platform_admin: ["admin-new-user", "/w/admin/users/new", c.roles2.openNewUser],
    certifier: ["certifier-certify", "/w/certifier/certifications/new", c.roles2.openCertify],
    arbiter: ["arbiter-disputes", "/w/arbiter/disputes", c.roles3.openDisputes],
  };
  const entry = entries[role];
  if (entry === undefined) return html``;
  const [id, path, label] = entry;
  return html`<p><a class="button" id="${id}" href="${`${path}?lang=${c.lang}`}">${label}</a></p>`;
}

export function workspacePage(c: Catalog, m: WorkspaceModel): { title: string; body: Html } {
  const w = c.workspace;
  const body = html`<h1><bdi>${w.hello(m.displayName)}</bdi></h1>
    <section aria-labelledby="who-title">
      <h2 id="who-title" class="sr">${w.title}</h2>
      <dl class="facts">
        <dt>${w.role}</dt>
        <dd id="role">${w.roles[m.role]}</dd>
        ${
          m.role === "member" || m.role === "coop_admin"
            ? html`<dt>${w.cooperative}</dt>
                <dd id="cooperative">
                  ${
                    m.cooperative === null
                      ? w.noCooperative
                      : html`<bdi>${m.cooperative.name}</bdi>${
                            m.cooperative.womenLed
                              ? html` <span class="badge women">${c.cooperative.womenLed}</span>`
                              : ""
                          }<br /><span class="note"><bdi>${placeLabel(m.cooperative.region, c.lang)}</bdi></span>`
                  }
                </dd>`
            : ""
        }
      </dl>
    </section>
    ${m.money ? money(c, m.money) : ""} ${m.manager ? managerSections(c, m.manager) : ""}
    ${
      m.auditor
        ? html`<section id="audit" aria-labelledby="audit-title">
            <h2 id="audit-title">${c.nav.audit}</h2>
            <p>${w.auditText}</p>
            <p><a href="${`/audit?lang=${c.lang}`}">${w.openAudit}</a></p>
          </section>`
        : ""
    }
    ${roleEntry(c, m.role)}
    ${
      m.role === "buyer"
        ? html`<ul class="links" id="buyer-entries">
            <li>
              <a class="button" id="buyer-orders" href="${`/w/buyer/orders?lang=${c.lang}`}">${c.buying.openOrders}</a>
            </li>
            <li><a id="buyer-funds" href="${`/w/buyer/funds?lang=${c.lang}`}">${c.buying.fundsTitle}</a></li>
          </ul>`
        : ""
    }
    <section aria-labelledby="elsewhere-title">
      <h2 id="elsewhere-title">${w.elsewhereTitle}</h2>
      <ul class="links">
        <li><a href="${`/market?lang=${c.lang}`}">${c.nav.market}</a><span class="note">${c.home.marketText}</span></li>
        <li>
          <a href="${`/cooperatives?lang=${c.lang}`}">${c.nav.cooperatives}</a
          ><span class="note">${c.home.cooperativesText}</span>
        </li>
        <li><a href="${`/stats?lang=${c.lang}`}">${c.nav.stats}</a><span class="note">${c.home.statsText}</span></li>
      </ul>
    </section>`;
  return { title: w.title, body };
}
