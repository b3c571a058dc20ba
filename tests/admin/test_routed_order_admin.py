"""Staff who see a routed order only through its distributor (an account manager of the distributor,
not of the buyer) see it as the distributor does: the buyer's price only where the contract that
priced the line names the distributor, otherwise the distributor's own price. The filter sidebars
of scoped staff list only the organisations and contracts within their scope."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.services import organisation_save
from segments.resolver import resolve
from territories.lookup import region_for_area
from tests.admin.forms import post_data
from tests.factories import UserFactory
from tests.ordering.routed_world import (
    NORTHGATE_CONTRACT,
    PENNINE_DRESSING,
    PENNINE_DRESSING_LINE,
    RIVERSIDE_CONTRACT,
    RIVERSIDE_DRESSING,
    RIVERSIDE_DRESSING_LINE,
    RIVERSIDE_FRAME,
    build_routed_world,
    contract,
    place,
)
from tests.territories.conftest import distributor, grant

pytestmark = pytest.mark.django_db

RIVERSIDE_SECRETS = (RIVERSIDE_DRESSING, RIVERSIDE_DRESSING_LINE, "44.88", RIVERSIDE_CONTRACT)


def _managing(*organisations, email: str):
    manager = UserFactory(email=email, is_staff=True)
    for organisation in organisations:
        organisation.account_manager = manager
        organisation_save(organisation=organisation)
    client = Client()
    client.force_login(manager)
    return client


@pytest.fixture
def routed():
    world = build_routed_world()
    buyer = resolve(world.user("riverside"), organisation=world.riverside)
    orders = place(buyer, [(world.base.dressing, 4), (world.base.frame, 2)], "PO-ADMIN-1")
    world.to_pennine, world.to_solent = orders[world.pennine.pk], orders[world.solent.pk]
    return world


def _change_page(client, order) -> str:
    response = client.get(reverse("admin:ordering_order_change", args=[order.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _filter_choices(client, url: str, title: str) -> set[str]:
    response = client.get(url)
    assert response.status_code == 200
    changelist = response.context["cl"]
    spec = next((s for s in changelist.filter_specs if s.title == title), None)
    if spec is None:  # a filter with nothing to choose from is left out of the sidebar
        return set()
    return {str(choice["display"]) for choice in spec.choices(changelist)} - {"All", "-",
                                                                            "Empty"}


def test_staff_of_the_distributor_only_see_its_own_price_on_the_order_and_its_lines(routed):
    client = _managing(routed.pennine, email="manager.pennine@demo.test")

    page = _change_page(client, routed.to_pennine)
    listing = client.get(reverse("admin:ordering_order_changelist")).content.decode()

    for secret in RIVERSIDE_SECRETS:
        assert secret not in page
        assert secret not in listing
    assert PENNINE_DRESSING in page and PENNINE_DRESSING_LINE in page
    assert PENNINE_DRESSING_LINE in listing


def test_staff_of_a_distributor_named_by_the_contract_see_the_contract_price(routed):
    client = _managing(routed.solent, email="manager.solent@demo.test")

    page = _change_page(client, routed.to_solent)

    assert RIVERSIDE_FRAME in page and RIVERSIDE_CONTRACT in page


def test_staff_of_the_buyer_see_the_buyers_price(routed):
    client = _managing(routed.riverside, routed.pennine, email="manager@demo.test")

    page = _change_page(client, routed.to_pennine)

    assert RIVERSIDE_DRESSING in page and RIVERSIDE_DRESSING_LINE in page


def test_a_superuser_sees_the_buyers_price(routed):
    client = Client()
    client.force_login(UserFactory(email="admin@demo.test", is_staff=True, is_superuser=True))

    page = _change_page(client, routed.to_pennine)

    assert RIVERSIDE_DRESSING in page


def test_the_order_filters_of_distributor_staff_list_only_their_organisations(routed):
    client = _managing(routed.pennine, email="manager.pennine@demo.test")
    url = reverse("admin:ordering_order_changelist")

    organisations = _filter_choices(client, url, "organisation")
    fulfillers = _filter_choices(client, url, "fulfiller")
    contracts = _filter_choices(client, url, "contract")

    assert routed.riverside.name not in organisations
    assert routed.northgate.name not in organisations
    assert routed.solent.name not in fulfillers and routed.pennine.name in fulfillers
    assert contracts == set()


def test_the_contract_filters_of_buyer_staff_list_only_their_contracts(routed):
    contract(routed.riverside, "NHS-2031-999", "1", {routed.base.gloves: "4.10"})
    client = _managing(routed.riverside, routed.pennine, email="manager.riverside@demo.test")

    on_orders = _filter_choices(client, reverse("admin:ordering_order_changelist"), "contract")
    on_contracts = _filter_choices(client, reverse("admin:pricing_contract_changelist"),
                                   "organisation")

    assert any(RIVERSIDE_CONTRACT in choice for choice in on_orders)
    assert not any(NORTHGATE_CONTRACT in choice for choice in on_orders)
    assert on_contracts == {routed.riverside.name, routed.pennine.name}


def test_the_territory_right_filter_lists_only_the_managers_distributors(routed):
    mercia = distributor("Mercia Test Medical", postcode="B1 1AA")
    grant(mercia, region_for_area("B"), product=routed.base.gloves)
    client = _managing(routed.pennine, mercia, routed.riverside, email="manager.north@demo.test")

    distributors = _filter_choices(
        client, reverse("admin:territories_territoryright_changelist"), "distributor")

    assert distributors == {routed.pennine.name, mercia.name}


def test_a_superuser_filter_lists_every_organisation(routed):
    client = Client()
    client.force_login(UserFactory(email="admin@demo.test", is_staff=True, is_superuser=True))

    organisations = _filter_choices(client, reverse("admin:ordering_order_changelist"),
                                    "organisation")

    assert {routed.riverside.name, routed.northgate.name} <= organisations


def test_the_buyers_account_manager_names_a_distributor_on_a_contract_and_it_then_sees_its_price(
    routed
):
    client = _managing(routed.riverside, email="manager.riverside@demo.test")
    url = reverse("admin:pricing_contract_change", args=[routed.riverside_contract.pk])
    data = post_data(client.get(url))
    data["authorised_fulfillers"] = [str(routed.solent.pk), str(routed.pennine.pk)]

    response = client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert set(routed.riverside_contract.authorised_fulfillers.all()) == {routed.solent,
                                                                         routed.pennine}
    assert routed.riverside_contract.history.count() >= 2
    pennine_staff = _managing(routed.pennine, email="manager.pennine@demo.test")
    assert RIVERSIDE_DRESSING in _change_page(pennine_staff, routed.to_pennine)
