/**
 * GET /w/manager/members/:memberUserId/card.pdf?lang=xx (mounted by routes.ts): her member card as a PDF
 * in the language asked for (hers, which the manager picks), from the card that works now (the cards
 * service's currentCard; only the manager of her cooperative may ask).
 */
import type { Services } from "../../services";
import { DomainError } from "../../services/errors";
import { memberCardPdf } from "./cardPdf";
import type { ManagerPage, ManagerRequest } from "./kit";

export interface CardDeps {
  services: Pick<Services, "cards">;
  cooperativeName: (cooperativeId: number) => string;
}

export function cardPages(deps: CardDeps): ManagerPage[] {
  const pdf = async (r: ManagerRequest) => {
    let card;
    try {
      card = deps.services.cards.currentCard(r.user, r.params.memberUserId);
    } catch (err) {
      // Not a member of a cooperative: the same "not found" as a member without a card.
      if (err instanceof DomainError && err.kind === "invalid") card = null;
      else throw err;
    }
    if (card === null) throw new DomainError("not_found", "card_not_found", "this member has no card");
    const body = await memberCardPdf({
      url: card.signInUrl,
      name: card.displayName,
      cooperative: deps.cooperativeName(card.cooperativeId ?? r.coopId),
      line: r.c.manager2.cardScan,
      title: r.c.manager2.cardFor(card.displayName),
      lang: r.c.lang,
    });
    return { pdf: body, filename: `card-${r.c.lang}.pdf` };
  };
  return [{ method: "get", path: "/w/manager/members/:memberUserId/card.pdf", handle: pdf }];
}
