"""What an order needs is discoverable and every refusal names its field: /me lists the
organisation's cost centres, delivery sites (with GLN) and the order fields its workflow requires,
differently for a trust and a distributor; an order without one is a 422 naming it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import CostCentre, Site
from ordering.models import Order
from tests.api.conftest import session_client
from tests.api.test_orders import client_for, order_body, place
from tests.api.test_orders import world as world  # noqa: F401  (the ordering world fixture)
from tests.factories import CostCentreFactory, SiteFactory


def _me(client) -> dict:
    answer = client.get("/api/v1/me/")
    assert answer.status_code == 200
    return answer.json()


@pytest.mark.django_db
def test_a_trusts_key_learns_its_cost_centres_sites_and_required_fields(world):
    Site.objects.filter(pk=world.ward_a.pk).update(gln="5012345678900")
    CostCentreFactory(organisation=world.trust, code="OLD1", is_active=False)

    ordering = _me(client_for(world, "buyer"))["ordering"]

    assert ordering["required_fields"][:3] == ["po_number", "cost_centre",
                                               "requested_delivery_date"]
    assert [c["code"] for c in ordering["cost_centres"]] == ["W7210"]
    sites = {site["id"]: site for site in ordering["sites"]}
    assert set(sites) == {world.ward_a.pk, world.ward_b.pk}
    assert sites[world.ward_a.pk]["gln"] == "5012345678900"
    assert sites[world.ward_a.pk]["postcode"] == "SE1 7EH"


@pytest.mark.django_db
def test_a_distributor_sees_its_own_reference_data_and_requirements(world):
    ordering = _me(client_for(world, "distributor"))["ordering"]

    assert "cost_centre" not in ordering["required_fields"]
    assert "po_number" in ordering["required_fields"]
    assert ordering["backorders_accepted"] is True
    assert [site["name"] for site in ordering["sites"]] == ["Manchester depot"]
    assert ordering["cost_centres"] == []


@pytest.mark.django_db
def test_a_retail_consumer_has_no_organisation_reference_data(world):
    assert _me(session_client(world.user("patient")))["ordering"] is None


@pytest.mark.django_db
def test_me_runs_the_same_queries_for_few_and_many_sites_and_cost_centres(world):
    client = client_for(world, "buyer")
    counts = []
    for _ in range(2):
        client.get("/api/v1/me/")  # the buyer's context is cached again after the change
        with CaptureQueriesContext(connection) as queries:
            client.get("/api/v1/me/")
        counts.append(len(queries))
        for number in range(8):
            SiteFactory(organisation=world.trust, name=f"Extra ward {len(counts)}-{number}")
            CostCentreFactory(organisation=world.trust, code=f"X{len(counts)}{number}")

    assert counts[0] == counts[1]
    assert len(_me(client)["ordering"]["sites"]) == 18


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value"), [
    ("cost_centre", ""),
    ("requested_delivery_date", None),
    ("po_number", ""),
])
def test_a_trust_order_without_a_required_field_is_refused_naming_it(world, field, value):
    answer = place(client_for(world, "buyer"), order_body(world, **{field: value}))

    assert answer.status_code == 422
    assert field in answer.json()["error"]["fields"]
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_a_past_delivery_date_and_an_inactive_cost_centre_name_their_fields(world):
    past = place(client_for(world, "buyer"),
                 order_body(world, requested_delivery_date="2020-01-01"))
    CostCentre.objects.filter(pk=world.cost_centre.pk).update(is_active=False)
    inactive = place(client_for(world, "buyer"), order_body(world))

    assert (past.status_code, list(past.json()["error"]["fields"])) == (
        422, ["requested_delivery_date"])
    assert (inactive.status_code, list(inactive.json()["error"]["fields"])) == (
        422, ["cost_centre"])
    assert not Order.objects.exists()
