/**
 * The pages of the roles other than the manager and the buyer: the member (member.ts), the development
 * office (registrar.ts), the platform admin (admin.ts), the certifier (certifier.ts) and the arbiter
 * (arbiter.ts). Those modules answer a page or a 303; Express stays here (the layer rule).
 */
import express, { type Express } from "express";
import type { PageSessions } from "../../sessions/http";
import type { WebDeps } from "../deps";
import { mountPages, pageKit, signedInRequest } from "../http";
import { adminPages } from "./admin";
import { arbiterPages } from "./arbiter";
import { certifierPages } from "./certifier";
import { memberPages } from "./member";
import { memberMoneyPages } from "../money/member";
import { registrarPages } from "./registrar";

export function roleRoutes(app: Express, web: WebDeps, sessions: PageSessions): void {
  const { services, once } = web;
  const kit = pageKit({ back: (c) => c.roles.back });
  const request = signedInRequest(kit, sessions, web.status);
  // The member's claim form has two hidden fields; the others a few more.
  const claimForm = express.urlencoded({ extended: false, limit: "4kb", parameterLimit: 10 });
  const form = express.urlencoded({ extended: false, limit: "4kb", parameterLimit: 12 });
  mountPages(app, memberPages(web), { kit, form: claimForm, sessions, request });
  // Money in dirhams: a contest's reason may be 1000 Arabic letters (6 bytes each once form-encoded).
  const reasonForm = express.urlencoded({ extended: false, limit: "16kb", parameterLimit: 12 });
  mountPages(app, memberMoneyPages(web), { kit, form: reasonForm, sessions, request });
  mountPages(
    app,
    [
      ...registrarPages(web),
      ...adminPages(services, once),
      ...certifierPages(services, once),
      ...arbiterPages(services, once, web.tokenView),
    ],
    { kit, form, sessions, request },
  );
}
