"""Quotes (requests for quotation) as a state machine: one table of transitions, one service per
action, each one transaction, each checked against who is acting."""
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.permissions import Perm
from segments.resolver import BuyerContext

from ..engine import visible_vat_categories
from ..models import Quote, QuoteLine, QuoteStatus
from ..selectors import managed_organisation_ids


class QuoteError(Exception):
    """A quote action that cannot be done, with a code and a message the actor can act on."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


BUYER, STAFF = "buyer", "staff"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    actors: frozenset[str]


S = QuoteStatus
QUOTE_TRANSITIONS: dict[str, Transition] = {
    "answer": Transition(frozenset({S.REQUESTED}), S.ANSWERED, frozenset({STAFF})),
    "accept": Transition(frozenset({S.ANSWERED}), S.ACCEPTED, frozenset({BUYER})),
    "reject": Transition(frozenset({S.ANSWERED}), S.REJECTED, frozenset({BUYER})),
    # Revising supersedes this revision and opens the next one, in state "requested".
    "revise": Transition(
        frozenset({S.REQUESTED, S.ANSWERED, S.REJECTED, S.EXPIRED}), S.SUPERSEDED,
        frozenset({BUYER, STAFF}),
    ),
}

QUOTE_BUYER_PERMISSIONS = frozenset({Perm.PLACE_ORDER, Perm.RAISE_REQUISITION, Perm.APPROVE_ORDER})


def _check_buyer(buyer: BuyerContext, quote: Quote | None = None) -> None:
    if buyer.organisation_id is None or not buyer.is_b2b:
        raise QuoteError("not_b2b", "Quotes are for business accounts.")
    if not buyer.permissions & QUOTE_BUYER_PERMISSIONS:
        raise QuoteError("not_allowed", "Your role in this organisation cannot handle quotes.")
    if quote is not None and quote.organisation_id != buyer.organisation_id:
        raise QuoteError("not_found", "No such quote.")


def _check_staff(actor, quote: Quote) -> None:
    scope = managed_organisation_ids(actor)
    if scope is not None and quote.organisation_id not in scope:
        raise QuoteError("not_allowed", "You do not manage this organisation's prices.")


def _locked(quote: Quote) -> Quote:
    return Quote.objects.select_for_update().get(pk=quote.pk)


def _transition(quote: Quote, action: str, actor_kind: str) -> str:
    rule = QUOTE_TRANSITIONS[action]
    if actor_kind not in rule.actors:
        raise QuoteError("not_allowed", f"A {actor_kind} cannot {action} a quote.")
    if quote.status not in rule.sources:
        raise QuoteError(
            "wrong_state", f"Quote {quote} is {quote.get_status_display().lower()}: "
            f"it cannot be {'revised' if action == 'revise' else action + 'ed'} now."
        )
    return rule.target


def _lines_checked(buyer, lines) -> list[tuple[int, int, Decimal | None]]:
    """(product id, quantity, target price) per line, for products this buyer can see."""
    wanted = [(getattr(p, "pk", p), int(q), t) for p, q, t in lines]
    if not wanted:
        raise QuoteError("no_lines", "Add at least one product to the quote.")
    ids = [pid for pid, _, _ in wanted]
    if len(set(ids)) != len(ids):
        raise QuoteError("duplicate_product", "Each product appears once in a quote.")
    if any(q < 1 for _, q, _ in wanted):
        raise QuoteError("bad_quantity", "Quantities are whole numbers from 1.")
    if any(t is not None and Decimal(t) <= 0 for _, _, t in wanted):
        raise QuoteError("bad_target", "A target price must be more than zero.")
    visible = visible_vat_categories(buyer, ids)
    if set(ids) - set(visible):
        raise QuoteError("unknown_product", "A product in this quote is not available to you.")
    return wanted


def _add_lines(quote: Quote, lines) -> None:
    for product_id, quantity, target in lines:
        line = QuoteLine(
            quote=quote, product_id=product_id, quantity=quantity,
            target_price=None if target is None else Decimal(target),
        )
        line.full_clean()
        line.save()


@transaction.atomic
def quote_request(*, buyer: BuyerContext, lines, note: str = "") -> Quote:
    """A B2B buyer asks for prices: `lines` are (product, quantity, target price or None)."""
    _check_buyer(buyer)
    checked = _lines_checked(buyer, lines)
    quote = Quote(
        organisation_id=buyer.organisation_id, number=f"new-{uuid.uuid4().hex[:12]}",
        requested_by_id=buyer.user_id, note=note.strip(),
    )
    quote.full_clean()
    quote.save()
    quote.number = f"Q-{quote.pk:06d}"
    quote.save(update_fields=["number"])
    _add_lines(quote, checked)
    return quote


@transaction.atomic
def quote_answer(
    *, quote: Quote, actor, prices: dict, expires_on, response_note: str = ""
) -> Quote:
    """The account manager prices every line and sets the expiry."""
    quote = _locked(quote)
    _check_staff(actor, quote)
    target = _transition(quote, "answer", STAFF)
    if expires_on is None or expires_on < timezone.localdate():
        raise QuoteError("bad_expiry", "The expiry date must be today or later.")
    lines = list(quote.lines.all())
    priced = {int(k): v for k, v in prices.items()}
    if {line.product_id for line in lines} - set(priced):
        raise QuoteError("unpriced_line", "Give a price for every line.")
    for line in lines:
        line.unit_price = Decimal(priced[line.product_id])
        if line.unit_price <= 0:
            raise QuoteError("bad_price", "A quoted price must be more than zero.")
        line.full_clean()
        line.save()
    quote.status = target
    quote.expires_on = expires_on
    quote.response_note = response_note.strip()
    quote.answered_by = actor
    quote.answered_at = timezone.now()
    quote.full_clean()
    quote.save()
    return quote


@transaction.atomic
def quote_accept(*, buyer: BuyerContext, quote: Quote) -> Quote:
    """The buyer accepts an answered, unexpired quote: its prices apply to the organisation up to
    the quoted quantities until expiry."""
    quote = _locked(quote)
    _check_buyer(buyer, quote)
    target = _transition(quote, "accept", BUYER)
    if quote.expires_on < timezone.localdate():
        quote.status = QuoteStatus.EXPIRED
        quote.save(update_fields=["status"])
        raise QuoteError("expired", f"Quote {quote} expired on {quote.expires_on:%d %b %Y}.")
    quote.status = target
    quote.accepted_at = timezone.now()
    quote.full_clean()
    quote.save()
    return quote


@transaction.atomic
def quote_reject(*, buyer: BuyerContext, quote: Quote) -> Quote:
    quote = _locked(quote)
    _check_buyer(buyer, quote)
    quote.status = _transition(quote, "reject", BUYER)
    quote.save(update_fields=["status"])
    return quote


@transaction.atomic
def quote_revise(
    *, quote: Quote, buyer: BuyerContext | None = None, actor=None, lines=None, note: str = ""
) -> Quote:
    """Renegotiate: the next revision (state requested) with the given lines, or the same lines;
    this revision is kept, superseded. A buyer or the organisation's account manager may revise."""
    quote = _locked(quote)
    if buyer is not None:
        _check_buyer(buyer, quote)
        actor_kind = BUYER
    else:
        _check_staff(actor, quote)
        actor_kind = STAFF
    quote.status = _transition(quote, "revise", actor_kind)
    quote.save(update_fields=["status"])
    if lines is None:
        lines = [(ln.product_id, ln.quantity, ln.target_price) for ln in quote.lines.all()]
    elif buyer is not None:
        lines = _lines_checked(buyer, lines)
    latest = Quote.objects.filter(number=quote.number).order_by("-revision").first()
    revision = Quote(
        organisation_id=quote.organisation_id, number=quote.number,
        revision=latest.revision + 1, currency=quote.currency,
        requested_by_id=buyer.user_id if buyer is not None else quote.requested_by_id,
        note=(note or quote.note).strip(),
    )
    revision.full_clean()
    revision.save()
    _add_lines(revision, [(getattr(p, "pk", p), int(q), t) for p, q, t in lines])
    return revision
