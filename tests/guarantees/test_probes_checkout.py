"""Checkout of every workflow through the pages, delivering to sites and addresses in areas other
than the buyer's own: each line goes where the oracle says for the delivery area (directly,
through the named distributor, or nowhere — refused with nothing written), and the order pages,
CSV export, API orders and emails that follow show no other account's price or reference — to
the buyer, and to the distributor an order is routed to."""

import datetime
import re

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from hypothesis import given

from ordering.models import CartLine, Order, OrderLine

from . import oracle
from .conftest import examples
from .probing import api_client, body_of, check_leaks, facts, login
from .world import AREA_POSTCODE, TERRITORY_AREAS, build, worlds

pytestmark = pytest.mark.django_db


def _token(body: str) -> str:
    """The price token the page was reviewed with (the last non-empty `token` input)."""
    values = [re.search(r'value="([^"]*)"', field) for field in
              re.findall(r'<input[^>]*name="token"[^>]*>', body)]
    return next((v.group(1) for v in reversed(values) if v and v.group(1)), "")


def _recipients_secrets(world) -> dict[str, dict]:
    """{email address: the secrets its owner may not read}: people, and distributors' desks."""
    spec, found = world.spec, {}
    for person in world.people.values():
        found[person.user.email] = oracle.secrets(spec, facts(world, person))
    for key in ("dist0", "dist1"):
        organisation = world.organisations[key]
        secrets = oracle.secrets(spec, oracle.buyer_facts(spec, key, key))
        found[organisation.distributor_profile.email] = secrets
    return found


def _check_emails(tally, world, where: str, only=None) -> list[str]:
    """A leak probe of every email sent (to the addresses in `only`, when given)."""
    problems, secrets = [], _recipients_secrets(world)
    for message in mail.outbox:
        for address in message.to:
            if only is not None and address not in only:
                continue
            text = message.subject + "\n" + message.body + "".join(
                content for content, _ in getattr(message, "alternatives", []))
            problems += check_leaks(tally, text, secrets.get(address, {}),
                                    f"{where} email to {address}")
    return problems


def _new_orders(organisation, before: set):
    return list(Order.objects.filter(organisation=organisation).exclude(pk__in=before))


def _place_organisation_order(client, person, product, site, world):
    """Cart one unit of `product`, choose `site` for the line, place; the response."""
    CartLine.objects.filter(cart__user=person.user).delete()
    client.post(reverse("cart_add"), {"product": product.pk, "quantity": 1})
    line = CartLine.objects.filter(cart__user=person.user, product=product).first()
    if line is None:
        return None
    url = reverse("checkout_institutional" if person.org_key[:4] != "dist"
                  else "checkout_distributor")
    form = {
        "po_number": "PO-GT-1", "cost_centre": world.cost_centres[person.org_key].pk,
        "requested_delivery_date": (datetime.date.today() + datetime.timedelta(days=7)),
        f"site-{line.pk}": site.pk,
    }
    reviewed = client.post(url, {**form, "review": "1"})  # the site chosen, prices updated
    return client.post(url, {**form, "token": _token(body_of(reviewed)), "place": "1"},
                       follow=True)


def page_errors(response) -> str:
    """The messages and form errors a page shows, as one line."""
    body = body_of(response) if response is not None else ""
    found = re.findall(r'<p class="message[^"]*">(.*?)</p>|<li>(.*?)</li>', body)
    return " | ".join(a or b for a, b in found if (a or b) and "<" not in (a or b))[:300]


def _judge_route(tally, where, expected, orders, response=None) -> list[str]:
    """Territory: a line may go only where the oracle says for the delivery area."""
    fulfillers = [o.fulfiller_id for o in orders]
    if expected == oracle.NOWHERE:
        return tally.probe("territory", [f"{where}: placed {fulfillers} although it may not be "
                                         "sold there"] if orders else [])
    if expected == oracle.DIRECT:
        wrong = [f for f in fulfillers if f is not None]
        problems = tally.probe("territory", [f"{where}: routed to {wrong} though sold directly"]
                               if wrong else [])
        return problems + tally.probe("oracle", [] if orders else [
            f"{where}: refused ({page_errors(response)})"])
    holder = expected  # an organisation id
    wrong = [f for f in fulfillers if f != holder]
    return tally.probe("territory", [f"{where}: sold via {wrong}, only distributor {holder} may "
                                     "sell it there"] if wrong else [])


def _buyer_side(client, tally, world, person, orders) -> list[str]:
    secrets = oracle.secrets(world.spec, facts(world, person))
    problems = []
    pages = {"orders": reverse("orders"), "CSV export": reverse("orders_export")}
    pages |= {f"order {o.number}": reverse("order_detail", args=[o.number]) for o in orders}
    for name, url in pages.items():
        problems += check_leaks(tally, body_of(client.get(url)), secrets, f"{person.key} {name}")
    api = api_client(world, person.org_key)
    urls = ["/api/v1/orders/"] + [f"/api/v1/orders/{o.number}/" for o in orders]
    for url in urls:
        problems += check_leaks(tally, body_of(api.get(url)), secrets, f"{person.key} {url}")
    return problems


@examples(ci=3, thorough=30)
@given(spec=worlds())
def test_organisation_checkout_sends_each_line_where_the_oracle_says(
    spec, client, tally, django_capture_on_commit_callbacks
):
    problems = []
    with transaction.atomic():
        world = build(spec)
        for person in world.buyers():
            if person.org_key is None:
                continue
            buyer = facts(world, person)
            shown = [p.index for p in spec.products if oracle.visible(spec, buyer, p.index)]
            organisation = world.organisations[person.org_key]
            colleagues = {p.user.email for p in world.people.values()
                          if p.org_key == person.org_key}
            for area in spec.org(person.org_key).site_areas:
                site = world.sites[(person.org_key, area)]
                for index in shown:
                    where = f"{person.key} product {index} to {area}"
                    with transaction.atomic():
                        login(client, person)
                        mail.outbox = []
                        before = set(Order.objects.values_list("pk", flat=True))
                        with django_capture_on_commit_callbacks(execute=True):
                            response = _place_organisation_order(
                                client, person, world.products[index], site, world)
                        if response is None:
                            problems += tally.probe("oracle", [f"{where}: not taken in the cart"])
                            transaction.set_rollback(True)
                            continue
                        orders = _new_orders(organisation, before)
                        expected = oracle.route(spec, buyer, index, area)
                        if expected not in (oracle.DIRECT, oracle.NOWHERE):
                            expected = world.organisations[expected].pk
                        problems += _judge_route(tally, where, expected, orders, response)
                        problems += check_leaks(tally, body_of(response),
                                                oracle.secrets(spec, buyer), where)
                        problems += _buyer_side(client, tally, world, person, orders)
                        problems += _check_emails(tally, world, where, only=colleagues)
                        transaction.set_rollback(True)
        transaction.set_rollback(True)

    assert problems == [], "\n".join(problems)


def _routed_world_orders(client, world, person, django_capture_on_commit_callbacks):
    """Every line a trust buyer may order into each of its sites, placed; pending orders approved
    by the trust's approver. The orders routed to distributors."""
    spec, buyer = world.spec, facts(world, person)
    for area in spec.org(person.org_key).site_areas:
        for p in spec.products:
            holder = oracle.route(spec, buyer, p.index, area)
            if oracle.visible(spec, buyer, p.index) and holder not in (oracle.DIRECT,
                                                                        oracle.NOWHERE):
                login(client, person)
                with django_capture_on_commit_callbacks(execute=True):
                    _place_organisation_order(client, person, world.products[p.index],
                                              world.sites[(person.org_key, area)], world)
    approver = world.person(f"{person.org_key}.approver")
    login(client, approver)
    pending = Order.objects.filter(organisation=world.organisations[person.org_key],
                                   state="pending_approval")
    for order in pending:
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("order_action", args=[order.number, "approve"]))
    return list(Order.objects.filter(organisation=world.organisations[person.org_key],
                                     fulfiller__isnull=False))


@examples(ci=3, thorough=30)
@given(spec=worlds())
def test_routed_orders_show_the_distributor_no_buyers_contract_price(
    spec, client, tally, django_capture_on_commit_callbacks
):
    problems = []
    with transaction.atomic():
        world = build(spec)
        mail.outbox = []
        routed = []
        for key in ("trust0", "trust1", "clinic", "ics"):
            routed += _routed_world_orders(client, world, world.person(f"{key}.buyer"),
                                           django_capture_on_commit_callbacks)
        for order in routed:
            key = next(k for k, o in world.organisations.items() if o.pk == order.fulfiller_id)
            secrets = oracle.secrets(spec, oracle.buyer_facts(spec, key, key))
            login(client, world.person(f"{key}.buyer"))
            api = api_client(world, key)
            surfaces = {
                "routed orders page": client.get(reverse("routed_orders")),
                f"routed order {order.number} page": client.get(
                    reverse("routed_order", args=[order.number])),
                "API routed orders": api.get("/api/v1/routed-orders/"),
                f"API routed order {order.number}": api.get(
                    f"/api/v1/routed-orders/{order.number}/"),
            }
            for name, response in surfaces.items():
                problems += check_leaks(tally, body_of(response), secrets, f"{key} {name}")
        problems += _check_emails(tally, world, "routed orders")
        transaction.set_rollback(True)

    assert problems == [], "\n".join(problems)


def _one_area_per_territory(home: str) -> list[str]:
    """The home area, and one area of each other territory."""
    home_territory = oracle.territory_of(home)
    return [home] + [areas[0] for code, areas in TERRITORY_AREAS.items() if code != home_territory]


def _place_retail_order(client, product, postcode: str):
    CartLine.objects.filter(cart__user_id=client.session.get("_auth_user_id")).delete()
    client.post(reverse("cart_add"), {"product": product.pk, "quantity": 1})
    client.post(reverse("checkout_retail_address"),
                {"name": "Pat Example", "address": "1 Example Road\nExample", "postcode": postcode})
    client.post(reverse("checkout_retail_relief"), {"claim": "no"})
    page = client.get(reverse("checkout_retail_payment"))
    return client.post(reverse("checkout_retail_payment"), {
        "card_number": "4242 4242 4242 4242", "token": _token(body_of(page)),
    }, follow=True)


@examples(ci=3, thorough=30)
@given(spec=worlds())
def test_retail_checkout_judges_territory_by_the_delivery_address(
    spec, client, tally, django_capture_on_commit_callbacks
):
    problems = []
    with transaction.atomic():
        world = build(spec)
        for person in world.buyers():
            if person.org_key is not None:
                continue
            buyer = facts(world, person)
            shown = [p.index for p in spec.products if oracle.visible(spec, buyer, p.index)]
            for area in _one_area_per_territory(buyer.area):
                for index in shown:
                    where = f"{person.key} (home {buyer.area}) product {index} delivered to {area}"
                    with transaction.atomic():
                        login(client, person)
                        mail.outbox = []
                        before = set(Order.objects.values_list("pk", flat=True))
                        with django_capture_on_commit_callbacks(execute=True):
                            response = _place_retail_order(client, world.products[index],
                                                           AREA_POSTCODE[area])
                        lines = OrderLine.objects.exclude(order_id__in=before).filter(
                            order__placed_by=person.user).select_related("order")
                        orders = list({line.order for line in lines})
                        expected = oracle.route(spec, buyer, index, area)
                        if expected not in (oracle.DIRECT, oracle.NOWHERE):
                            expected = world.organisations[expected].pk
                        if expected == oracle.DIRECT:  # a consumer is not owed every line
                            problems += tally.probe("territory", [
                                f"{where}: routed to {o.fulfiller_id}" for o in orders
                                if o.fulfiller_id is not None])
                        else:
                            problems += _judge_route(tally, where, expected, orders, response)
                        problems += check_leaks(tally, body_of(response),
                                                oracle.secrets(spec, buyer), where)
                        problems += _check_emails(tally, world, where)
                        transaction.set_rollback(True)
        transaction.set_rollback(True)

    assert problems == [], "\n".join(problems)
