"""Concierge accounts see their named account manager with direct contact on every page, read
from the resolver's context at no query cost; other accounts do not."""

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from segments.context_processors import account_service
from segments.resolver import resolve
from tests.factories import MembershipFactory, OrganisationFactory
from tests.factories.service_levels import account_manager, contract_promising

PAGES = ["home", "catalogue_home", "cart", "orders", "account"]


@pytest.fixture
def accounts(db):
    manager = account_manager("manager@demo.test", "Priya Shah")
    concierge = OrganisationFactory(name="Concierge Trust", account_manager=manager)
    contract_promising(concierge, "concierge")
    standard = OrganisationFactory(name="Standard Trust", account_manager=manager)
    return {
        "concierge": MembershipFactory(organisation=concierge).user,
        "standard": MembershipFactory(organisation=standard).user,
    }


def _page(user, name):
    client = Client()
    client.force_login(user)
    client.get(reverse(name))  # a running site has the buyer's context cached
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(name))
    assert response.status_code == 200
    return response.content.decode(), len(queries)


@pytest.mark.parametrize("name", PAGES)
def test_a_concierge_account_sees_its_manager_on_every_page_and_a_standard_one_does_not(
    accounts, name
):
    concierge, concierge_queries = _page(accounts["concierge"], name)
    standard, standard_queries = _page(accounts["standard"], name)

    assert "account-manager-strip" in concierge
    assert "Priya Shah" in concierge and "manager@demo.test" in concierge
    assert "020 7946 0100" in concierge
    assert "account-manager-strip" not in standard
    assert concierge_queries == standard_queries


def test_the_strip_costs_no_query(accounts, django_assert_num_queries):
    request = RequestFactory().get("/")
    request.user = accounts["concierge"]
    request.buyer = resolve(accounts["concierge"])

    with django_assert_num_queries(0):
        shown = account_service(request)["concierge_manager"]

    assert (shown.name, shown.email) == ("Priya Shah", "manager@demo.test")
