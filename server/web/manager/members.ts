/**
 * Adding a member (mounted by routes.ts): GET /w/manager/members/new asks her name, a reference and a PIN
 * typed twice; POST /w/manager/members adds her (cooperatives.addMember) → her printable card, shown once
 * on the confirmation /w/manager/members/done/:key.
 */
import { memberCardSvg } from "../../custody/cards";
import type { Services } from "../../services";
import { addMemberInput } from "../../services/cooperatives";
import { isObviousPin } from "../../services/cards";
import { formKey, ONCE_FIELD, parseForm, submitForm, type FormOnce } from "../forms";
import { doneStore, type Body } from "../page";
import type { FieldProblem } from "../views/components";
import type { ManagerPage, ManagerRequest } from "./kit";
import { memberDonePage, memberFormPage } from "./views";

export interface MemberDeps {
  services: Pick<Services, "cooperatives">;
  once: FormOnce;
  cooperativeName: (cooperativeId: number) => string;
}

/** What the confirmation shows of the member just added. */
interface Added {
  name: string;
  memberUserId: string;
  svg: string | null;
  cardUrl: string | null;
  /** The write not yet mined when the page was answered (null if it was), looked up on each visit. */
  operationId: string | null;
}

export function memberPages(deps: MemberDeps): ManagerPage[] {
  const { services, once } = deps;
  // A printed card is shown once after its write; kept in memory a short while for the confirmation page.
  const added = doneStore<Added>();

  const memberForm = (r: ManagerRequest, values: Body, problems: FieldProblem[]) =>
    memberFormPage(r.c, { values, problems, csrf: r.csrf, once: values[ONCE_FIELD] ?? formKey() });

  const add = (r: ManagerRequest) => {
    const b = r.body;
    const values = { displayName: b.displayName, reference: b.reference, [ONCE_FIELD]: b[ONCE_FIELD] };
    const parsed = parseForm(r.c, addMemberInput, {
      displayName: b.displayName?.trim() ?? "",
      reference: b.reference?.trim() ?? "",
      pin: b.pin ?? "",
    });
    const problems = parsed.ok ? [] : parsed.problems;
    // The schema refuses an easy PIN as "invalid": say why, in words.
    const pin = b.pin ?? "";
    if (/^[0-9]{4,6}$/.test(pin) && isObviousPin(pin)) {
      const i = problems.findIndex((p) => p.field === "pin");
      if (i >= 0) problems[i] = { field: "pin", message: r.c.manager.pinEasy };
    }
    if (!problems.some((p) => p.field === "pin") && pin !== (b.pinAgain ?? ""))
      problems.push({ field: "pinAgain", message: r.c.manager.pinMismatch });
    return submitForm(r, once, {
      parsed,
      problems,
      form: (p) => memberForm(r, values, p),
      write: async (data) => {
        const res = await services.cooperatives.addMember(r.user, r.coopId, data);
        const key = added.put(r.user.id, {
          name: data.displayName,
          memberUserId: res.member.userId,
          svg: res.member.card,
          cardUrl: res.member.cardUrl,
          operationId: res.outcome.status === "mined" ? null : res.outcome.operationId,
        });
        return `/w/manager/members/done/${key}`;
      },
    });
  };

  const done = async (r: ManagerRequest) => {
    const card = added.own(r.user.id, r.params.key);
    // The card is drawn again in the reader's language (the service draws it in English for the API).
    const svg =
      card.cardUrl === null
        ? card.svg
        : await memberCardSvg({
            displayName: card.name,
            cooperativeName: deps.cooperativeName(r.coopId),
            signInUrl: card.cardUrl,
            instruction: r.c.manager2.cardScan,
          });
    const view = memberDonePage(r.c, {
      displayName: card.name,
      cardSvg: svg,
      pending: r.progress(card.operationId, r.url),
      memberUserId: card.svg === null ? null : card.memberUserId,
    });
    return { status: 200, view };
  };

  return [
    { method: "get", path: "/w/manager/members/new", handle: (r) => ({ status: 200, view: memberForm(r, {}, []) }) },
    { method: "post", path: "/w/manager/members", handle: add },
    { method: "get", path: "/w/manager/members/done/:key", handle: done },
  ];
}
