"""Nobody reads or changes another organisation's objects, and no order skips its approval, its
budget or its role. Orders are placed through the pages of a generated world; then every other
person tries every action on them through the pages and the API — another organisation's
approver, admin and buyer, a distributor, a colleague without the role, the placer on their own
order, an approver above their limit — and each refused attempt leaves the order, its approval
steps and its history exactly as they were. Another organisation's quote is neither read nor
answered, and an order over its cost centre's budget is never released unapproved."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import given

from accounts.models import Budget
from ordering.models import ApprovalRule, ApprovalStep, Order, OrderEvent
from tests.factories import MembershipFactory

from . import oracle
from .conftest import examples
from .probing import api_client, body_of, check_leaks, facts, login
from .test_probes_checkout import _place_organisation_order
from .world import Person, build, worlds

pytestmark = pytest.mark.django_db

ORG_KEYS = ("ics", "trust0", "trust1", "clinic", "dist0", "dist1")


def _snapshot(order: Order) -> tuple:
    order.refresh_from_db()
    steps = tuple(ApprovalStep.objects.filter(order=order).order_by("position")
                  .values_list("status", "decided_by_id"))
    return (order.state, order.fulfiller_id, order.expected_delivery_date, steps,
            OrderEvent.objects.filter(order=order).count())


def _placer(world, org_key: str) -> Person:
    """A member who both places orders and approves them (without limit)."""
    membership = MembershipFactory(
        organisation=world.organisations[org_key], is_buyer=True, is_approver=True,
        approval_limit=Decimal("100000.00"),
        user__email=f"{org_key}.placer.{world.spec.tag}@guarantees.test",
    )
    person = Person(f"{org_key}.placer", membership.user, org_key, ("buyer", "approver"))
    world.people[person.key] = person
    return person


def _orders_of(world, client, placer, tally):
    """One order per line the placer may buy at its own site, placed through the pages."""
    spec, buyer = world.spec, facts(world, placer)
    site = world.sites[(placer.org_key, buyer.area)]
    for p in spec.products:
        if oracle.visible(spec, buyer, p.index) and \
                oracle.route(spec, buyer, p.index, buyer.area) != oracle.NOWHERE:
            login(client, placer)
            _place_organisation_order(client, placer, world.products[p.index], site, world)
    return list(Order.objects.filter(organisation=world.organisations[placer.org_key]))


def _attempt(client, tally, order, actor: Person, world, action: str, kind: str) -> list[str]:
    """One refused attempt: the order is unchanged afterwards."""
    before = _snapshot(order)
    login(client, actor)
    if action.startswith("api "):
        verb = action.removeprefix("api ")
        path = (f"/api/v1/routed-orders/{order.number}/{verb}/" if verb in ("accept", "decline")
                else f"/api/v1/orders/{order.number}/{verb}/")
        response = api_client(world, actor.org_key).post(path, {
            "expected_delivery_date": str(datetime.date.today() + datetime.timedelta(days=3)),
            "reason": "Out of stock"}, format="json")
    elif action in ("accept", "decline"):
        response = client.post(reverse("routed_order", args=[order.number]), {
            "answer": action, "reason": "Out of stock",
            "expected_delivery_date": datetime.date.today() + datetime.timedelta(days=3)})
    else:
        response = client.post(reverse("order_action", args=[order.number, action]),
                               {"comment": "probe"})
    after = _snapshot(order)
    return tally.probe(kind, [] if after == before else [
        f"{actor.key} {action} on {order.number} of {order.organisation_id} "
        f"({response.status_code}) changed {before} to {after}"])


def _foreign_reads(client, tally, order, outsider: Person, world) -> list[str]:
    """Another organisation's person cannot read the order on a page or through the API."""
    login(client, outsider)
    problems = []
    for name, response in {
        "page": client.get(reverse("order_detail", args=[order.number])),
        "API": api_client(world, outsider.org_key).get(f"/api/v1/orders/{order.number}/")
        if outsider.org_key else None,
    }.items():
        if response is None:
            continue
        problems += tally.probe("foreign", [] if response.status_code in (403, 404) else [
            f"{outsider.key} read {order.number} ({name}): {response.status_code}"])
    if order.number in body_of(client.get(reverse("orders"))):
        problems += tally.probe("foreign", [f"{outsider.key} lists {order.number}"])
    return problems


@examples(ci=2, thorough=20)
@given(spec=worlds())
def test_nobody_acts_on_an_order_without_the_right_and_the_placer_never_approves_it(
    spec, client, tally
):
    problems = []
    with transaction.atomic():
        world = build(spec)
        consumer = world.person("consumer0")
        for org_key in ("trust0", "trust1", "clinic"):
            placer = _placer(world, org_key)
            orders = _orders_of(world, client, placer, tally)
            outsiders = [world.person(f"{k}.approver") for k in ORG_KEYS if k != org_key]
            outsiders += [world.person(f"{k}.buyer") for k in ("trust0", "trust1", "dist0")
                          if k != org_key] + [consumer]
            colleagues = [world.person(f"{org_key}.{role}")
                          for role in ("requisitioner", "budget", "admin")]
            for order in orders:
                fulfiller = next((k for k, o in world.organisations.items()
                                  if o.pk == order.fulfiller_id), None)
                for outsider in outsiders:
                    answers = outsider.org_key != fulfiller  # the routed-to distributor answers
                    problems += _foreign_reads(client, tally, order, outsider, world)
                    for action in ("approve", "reject", "cancel", "accept")[:4 if answers else 3]:
                        problems += _attempt(client, tally, order, outsider, world, action,
                                             "transition")
                    if outsider.org_key:
                        for action in ("api cancel", "api accept")[:2 if answers else 1]:
                            problems += _attempt(client, tally, order, outsider, world, action,
                                                 "transition")
                for colleague in colleagues:
                    for action in ("approve", "reject", "accept"):
                        problems += _attempt(client, tally, order, colleague, world, action,
                                             "transition")
                problems += _attempt(client, tally, order, placer, world, "approve",
                                     "transition")
                if order.state == "pending_approval":
                    problems += _approval_by_the_chain(client, tally, order, world, org_key)
        transaction.set_rollback(True)

    assert problems == [], "\n".join(problems)


def _approval_by_the_chain(client, tally, order, world, org_key) -> list[str]:
    """The organisation's approver decides: within their limit the order moves on; above it,
    it does not leave approval."""
    approver = world.person(f"{org_key}.approver")
    limit = world.spec.org(org_key).approver_limit
    login(client, approver)
    client.post(reverse("order_action", args=[order.number, "approve"]), {"comment": "ok"})
    order.refresh_from_db()
    if order.total_net > limit:
        return tally.probe("transition", [] if order.state == "pending_approval" else [
            f"{approver.key} (limit {limit}) approved {order.number} of {order.total_net}: "
            f"{order.state}"])
    return tally.probe("oracle", [] if order.state != "pending_approval" else [
        f"{approver.key} (limit {limit}) could not approve {order.number} of "
        f"{order.total_net}"])


@examples(ci=2, thorough=20)
@given(spec=worlds())
def test_an_order_over_budget_is_not_released_without_approval_rules(spec, client, tally):
    problems = []
    with transaction.atomic():
        world = build(spec)
        for org_key in ("trust0", "trust1", "clinic"):
            organisation = world.organisations[org_key]
            ApprovalRule.objects.filter(organisation=organisation).delete()
            Budget.objects.filter(cost_centre=world.cost_centres[org_key]).update(
                amount=Decimal("1.00"))
            orders = _orders_of(world, client, world.person(f"{org_key}.buyer"), tally)
            for order in orders:
                problems += tally.probe("transition", [] if order.state in (
                    "pending_approval", "rejected", "cancelled") else [
                    f"{org_key} order {order.number} of {order.total_net} over a budget of "
                    f"1.00 went to {order.state} without approval"])
        transaction.set_rollback(True)

    assert problems == [], "\n".join(problems)


def _quote_state(quote) -> tuple:
    quote.refresh_from_db()
    return (quote.status, quote.revision, quote.accepted_at, quote.answered_at,
            tuple(quote.lines.order_by("pk").values_list("product_id", "quantity",
                                                          "unit_price")))


@examples(ci=2, thorough=20)
@given(spec=worlds())
def test_nobody_reads_or_answers_another_organisations_quote(spec, client, tally):
    problems = []
    with transaction.atomic():
        world = build(spec)
        for person in world.buyers():
            login(client, person)
            secrets = oracle.secrets(spec, facts(world, person))
            problems += check_leaks(tally, body_of(client.get(reverse("quote_list"))), secrets,
                                    f"{person.key} quotes page")
            for number, quote in world.quotes.items():
                holder = next(q.holder for q in spec.quotes if q.number == number)
                if holder == person.org_key:
                    continue
                response = client.get(reverse("quote_detail", args=[quote.pk]))
                problems += tally.probe("foreign", [] if response.status_code in (403, 404)
                                        else [f"{person.key} read quote {number} of {holder}: "
                                              f"{response.status_code}"])
                for action in ("quote_accept", "quote_reject", "quote_revise"):
                    before = _quote_state(quote)
                    response = client.post(reverse(action, args=[quote.pk]),
                                           {"note": "probe", "reason": "probe"})
                    problems += tally.probe("transition", [] if _quote_state(quote) == before
                                            else [f"{person.key} {action} on {holder}'s quote "
                                                  f"{number} ({response.status_code})"])
        transaction.set_rollback(True)

    assert problems == [], "\n".join(problems)
