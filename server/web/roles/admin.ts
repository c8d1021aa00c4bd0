/**
 * The platform admin's page (issue 12): create a registrar, certifier, arbiter or auditor account, its
 * access token shown once on the confirmation with plain words on handing it over privately.
 *
 * Express stays in routes.ts (the layer rule): the pages here take the parts of a request they need and
 * answer a view or a redirect (page.ts), which routes.ts sends. The form is parsed with the API's `createUserInput`.
 */
import { html, type Html } from "../../pages/html";
import type { Catalog } from "../../pages/i18n";
import { requireRole } from "../../services/access";
import type { Services } from "../../services";
import { createUserInput, PLATFORM_CREATED_ROLES } from "../../services/users";
import { formKey, ONCE_FIELD, onceFields, parseForm, submitForm, type FormOnce } from "../forms";
import { doneStore, type View, type WebPage } from "../page";
import { errorSummary, field, radios, tokenShownOnce, type FieldProblem } from "../views/components";

export const q = (c: Catalog, path: string) => `${path}?lang=${c.lang}`;

function newUserForm(
  c: Catalog,
  m: { values: Record<string, string | undefined>; problems: FieldProblem[]; csrf: Html },
): View {
  const t = c.roles2;
  const err = (id: string) => m.problems.find((p) => p.field === id)?.message;
  const body = html`${errorSummary(c, m.problems)}
    <form method="post" action="/w/admin/users" novalidate>
      ${onceFields(m.csrf, m.values[ONCE_FIELD] ?? formKey())}
      <h1>${t.newUserTitle}</h1>
      ${radios({
        name: "role",
        legend: t.roleQuestion,
        error: err("role"),
        options: PLATFORM_CREATED_ROLES.map((r) => [
          r,
          html`${c.workspace.roles[r]} <span class="note">${t.roleText[r]}</span>`,
        ]),
        checked: m.values.role,
      })}
      ${field({ id: "displayName", label: t.displayName, hint: t.displayNameHint, value: m.values.displayName, error: err("displayName") })}
      <button type="submit" class="button big">${t.createUser}</button>
    </form>
    <p><a href="${q(c, "/w")}">${c.roles.back}</a></p>`;
  return { title: t.newUserTitle, body };
}

function createdPage(c: Catalog, m: { name: string; role: string; token: string | null }): View {
  const t = c.roles2;
  const title = t.userCreatedTitle(m.name);
  const body = html`<div class="panel confirmation" id="user-created">
      <h1><bdi>${title}</bdi></h1>
      <p>${c.workspace.roles[m.role as (typeof PLATFORM_CREATED_ROLES)[number]]}</p>
    </div>
    ${
      m.token === null
        ? html`<p>${t.tokenGone}</p>`
        : tokenShownOnce({ id: "user-token", token: m.token, intro: t.userTokenIntro, warn: t.userTokenWarn })
    }
    <ul class="links">
      <li><a href="${q(c, "/w/admin/users/new")}">${t.openNewUser}</a></li>
      <li><a href="${q(c, "/w")}">${c.roles.back}</a></li>
    </ul>`;
  return { title, body };
}

export function adminPages(services: Services, once: FormOnce): WebPage[] {
  // A confirmation holding a token is kept a short while in memory, for its owner only, and shown once.
  const created = doneStore<{ name: string; role: string; token: string | null }>();
  return [
    {
      method: "get",
      path: "/w/admin/users/new",
      handle: (r) => {
        requireRole(r.user, "platform_admin");
        return { status: 200, view: newUserForm(r.c, { values: {}, problems: [], csrf: r.csrf }) };
      },
    },
    {
      method: "post",
      path: "/w/admin/users",
      handle: (r) => {
        requireRole(r.user, "platform_admin");
        const values = { role: r.body.role, displayName: r.body.displayName, [ONCE_FIELD]: r.body[ONCE_FIELD] };
        const parsed = parseForm(r.c, createUserInput, {
          role: r.body.role ?? "",
          displayName: r.body.displayName?.trim() ?? "",
        });
        return submitForm(r, once, {
          parsed,
          // "Invalid option" says nothing to a reader: the question does.
          problems: parsed.ok
            ? []
            : parsed.problems.map((p) => (p.field === "role" ? { ...p, message: r.c.roles2.roleMissing } : p)),
          form: (problems) => newUserForm(r.c, { values, problems, csrf: r.csrf }),
          write: async (data) => {
            const user = await services.users.create(r.user, data);
            const key = created.put(r.user.id, { name: data.displayName, role: data.role, token: user.token });
            return `/w/admin/users/done/${key}`;
          },
        });
      },
    },
    {
      method: "get",
      path: "/w/admin/users/done/:id",
      handle: (r) => {
        const d = created.own(r.user.id, r.params.id);
        const token = d.token;
        d.token = null;
        return { status: 200, view: createdPage(r.c, { name: d.name, role: d.role, token }) };
      },
    },
  ];
}
