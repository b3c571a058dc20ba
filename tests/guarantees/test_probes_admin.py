"""The admin for scoped staff: an account manager sees the contracts, quotes, prices and orders of
the organisations they manage, and no other organisation's contract or quote price or reference
appears on any list or change page they open; another organisation's contract, quote or order
is not theirs to open."""

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from hypothesis import given

from ordering.models import Order
from pricing.models import Contract, PriceList, PriceListKind, Quote
from pricing.services import contract_save, price_list_save
from tests.factories import OrganisationFactory, UserFactory

from . import oracle
from .conftest import examples
from .probing import body_of, check_leaks, facts, login
from .test_probes_checkout import _place_organisation_order
from .world import build, worlds

pytestmark = pytest.mark.django_db

CHANGELISTS = (
    "accounts_organisation", "pricing_contract", "pricing_quote", "pricing_pricelist",
    "pricing_pricelistitem", "ordering_order",
)


def _some_orders(client, world):
    """Each organisation's buyer orders every line it may buy at its own site."""
    spec = world.spec
    for key in ("ics", "trust0", "trust1", "clinic"):
        person = world.person(f"{key}.buyer")
        buyer = facts(world, person)
        site = world.sites[(key, buyer.area)]
        for p in spec.products:
            if oracle.visible(spec, buyer, p.index) and \
                    oracle.route(spec, buyer, p.index, buyer.area) != oracle.NOWHERE:
                login(client, person)
                _place_organisation_order(client, person, world.products[p.index], site, world)


@examples(ci=2, thorough=20)
@given(spec=worlds())
def test_scoped_staff_see_no_other_organisations_prices_in_the_admin(spec, client, tally):
    problems = []
    with transaction.atomic():
        world = build(spec)
        _some_orders(client, world)
        manager, managed = world.staff["manager"]
        managed_ids = {world.organisations[k].pk for k in managed}
        secrets = oracle.secrets_outside(spec, managed)
        client.logout()
        client.force_login(manager)
        for name in CHANGELISTS:
            response = client.get(reverse(f"admin:{name}_changelist") + "?all=&q=")
            problems += check_leaks(tally, body_of(response), secrets, f"admin {name} list")
        foreign = {
            "pricing_contract": Contract.objects.exclude(organisation_id__in=managed_ids),
            "pricing_quote": Quote.objects.exclude(organisation_id__in=managed_ids),
            "ordering_order": Order.objects.exclude(organisation_id__in=managed_ids)
            .exclude(fulfiller_id__in=managed_ids),
        }
        for name, rows in foreign.items():
            for row in rows.filter(pk__in=_world_rows(world, name)):
                response = client.get(reverse(f"admin:{name}_change", args=[row.pk]))
                where = f"admin {name} {row.pk} change page"
                problems += check_leaks(tally, body_of(response), secrets, where)
                problems += tally.probe("foreign", [] if response.status_code in (302, 403, 404)
                                        else [f"{where}: {response.status_code}"])
        transaction.set_rollback(True)

    assert problems == [], "\n".join(problems)


def _world_rows(world, name: str) -> list[int]:
    organisations = [o.pk for o in world.organisations.values()]
    model = {"pricing_contract": Contract, "pricing_quote": Quote, "ordering_order": Order}[name]
    return list(model.objects.filter(organisation_id__in=organisations).values_list("pk",
                                                                                     flat=True))


def test_price_item_filter_names_no_other_organisations_contract(client):
    manager = UserFactory(email="manager.filter@guarantees.test", is_staff=True)
    managed = OrganisationFactory(name="Managed Test Trust", account_manager=manager)
    other = OrganisationFactory(name="Other Test Trust")
    # Two lists of its own: a filter with a single choice is not shown at all.
    for organisation, reference in ((managed, "NHS-2031-001"), (managed, "NHS-2031-002"),
                                    (other, "NHS-2031-777")):
        price_list = price_list_save(price_list=PriceList(
            code=reference.lower(), name=f"{reference} lot 1 ({organisation.name})",
            kind=PriceListKind.CONTRACT))
        contract_save(contract=Contract(
            organisation=organisation, reference=reference, lot="1", status="active",
            price_list=price_list, valid_from=timezone.localdate()))
    client.force_login(manager)

    body = body_of(client.get(reverse("admin:pricing_pricelistitem_changelist")))

    assert "NHS-2031-001" in body
    assert "NHS-2031-777" not in body
