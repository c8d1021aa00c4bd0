/**
 * The development office (role registrar), mounted by routes.ts: a cooperative and its manager
 * (GET/POST /w/registrar/cooperatives/new → /w/registrar/cooperatives), the manager's key shown once on
 * the confirmation. The form is parsed with the API's `registerCooperativeInput`.
 */
import { requireRole } from "../../services/access";
import { registerCooperativeInput } from "../../services/cooperatives";
import type { WebDeps } from "../deps";
import { formKey, ONCE_FIELD, parseForm, submitForm } from "../forms";
import { doneStore, type Body, type WebPage, type WebRequest } from "../page";
import type { FieldProblem } from "../views/components";
import { registeredPage, registerFormPage } from "./views";

/** "10" or "10,5" % → basis points; anything else goes to the schema as is, to be refused beside the field. */
function reserveBpsOf(text: string | undefined): number | string {
  const reserveText = (text ?? "").trim().replace(",", ".");
  return /^[0-9]{1,3}(\.[0-9]{1,2})?$/.test(reserveText) ? Math.round(Number(reserveText) * 100) : reserveText;
}

export function registrarPages(deps: Pick<WebDeps, "services" | "once">): WebPage[] {
  const { services, once } = deps;
  // The key is handed to the confirmation page through memory, and forgotten the first time it is shown on
  // the finished page: while the write is on its way the page opens again by itself, and must show it again.
  // operationId: the write not yet mined when the page was answered (null if it was), looked up on each visit.
  const registered = doneStore<{ name: string; token: string | null; operationId: string | null }>();

  const registerForm = (r: WebRequest, values: Body, problems: FieldProblem[]) =>
    registerFormPage(r.c, { values, problems, csrf: r.csrf, once: values[ONCE_FIELD] ?? formKey() });

  const register = (r: WebRequest) => {
    requireRole(r.user, "registrar");
    const b = r.body;
    const values = {
      name: b.name,
      region: b.region,
      registrationNumber: b.registrationNumber,
      reserve: b.reserve,
      womenLed: b.womenLed,
      adminName: b.adminName,
      [ONCE_FIELD]: b[ONCE_FIELD],
    };
    const parsed = parseForm(r.c, registerCooperativeInput, {
      name: b.name?.trim() ?? "",
      region: b.region?.trim() ?? "",
      registrationNumber: b.registrationNumber?.trim() ?? "",
      reserveBps: reserveBpsOf(b.reserve),
      womenLed: b.womenLed === "yes",
      admin: { displayName: b.adminName?.trim() ?? "" },
    });
    return submitForm(r, once, {
      parsed,
      // The generic "too big" says nothing of the bounds: the reserve's own hint does.
      problems: parsed.ok
        ? []
        : parsed.problems.map((p) =>
            p.field === "reserveBps"
              ? { ...p, message: r.c.roles.reserveHint }
              : p.field === "region"
                ? { ...p, message: r.c.places.provinceMissing }
                : p,
          ),
      form: (p) => registerForm(r, values, p),
      write: async (data) => {
        const res = await services.cooperatives.register(r.user, data);
        const key = registered.put(r.user.id, {
          name: data.name,
          token: res.admin.token,
          operationId: res.outcome.status === "mined" ? null : res.outcome.operationId,
        });
        return `/w/registrar/cooperatives/done/${key}`;
      },
    });
  };

  const done = (r: WebRequest) => {
    const d = registered.own(r.user.id, r.params.id);
    const pending = r.progress(d.operationId, r.url);
    const token = d.token;
    if (pending?.state !== "pending") d.token = null;
    return { status: 200, view: registeredPage(r.c, { name: d.name, token, pending }) };
  };

  return [
    {
      method: "get",
      path: "/w/registrar/cooperatives/new",
      handle: (r) => {
        requireRole(r.user, "registrar");
        return { status: 200, view: registerForm(r, {}, []) };
      },
    },
    { method: "post", path: "/w/registrar/cooperatives", handle: register },
    { method: "get", path: "/w/registrar/cooperatives/done/:id", handle: done },
  ];
}
