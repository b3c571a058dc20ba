import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import CostCentre
from tests.factories import (
    BudgetFactory,
    CostCentreFactory,
    MembershipFactory,
    OrganisationFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def riverside():
    return OrganisationFactory(name="Riverside University Hospitals NHS Foundation Trust")


@pytest.fixture
def admin(client, riverside):
    user = MembershipFactory(organisation=riverside, is_org_admin=True).user
    client.force_login(user)
    return user


def test_the_list_shows_this_organisations_cost_centres_with_budgets(client, admin, riverside):
    ward = CostCentreFactory(organisation=riverside, code="RV7", name="Ward 7 consumables")
    BudgetFactory(cost_centre=ward, amount=Decimal("12000.00"), committed=Decimal("2000.00"))
    CostCentreFactory(organisation=OrganisationFactory(name="Harbour"), code="HB1")

    page = client.get(reverse("cost_centre_list")).content.decode()

    assert "RV7" in page and "Ward 7 consumables" in page
    assert "£12,000.00" in page and "£10,000.00 remaining" in page
    assert "HB1" not in page


@pytest.mark.parametrize("size", [3, 15])
def test_the_list_query_count_does_not_grow(
    client, admin, riverside, size, django_assert_num_queries
):
    for _ in range(size):
        BudgetFactory(cost_centre=CostCentreFactory(organisation=riverside))
    client.get(reverse("cost_centre_list"))

    with django_assert_num_queries(6):
        client.get(reverse("cost_centre_list"))


def test_adding_a_cost_centre_upper_cases_its_code(client, admin, riverside):
    response = client.post(reverse("cost_centre_add"), {"code": "rv-200", "name": "Theatres"})

    assert response.status_code == 302
    assert CostCentre.objects.get(organisation=riverside).code == "RV-200"


def test_a_duplicate_code_is_an_error_and_creates_nothing(client, admin, riverside):
    CostCentreFactory(organisation=riverside, code="RV200")

    response = client.post(reverse("cost_centre_add"), {"code": "rv200", "name": "Again"})

    assert response.status_code == 400
    assert "already has a cost centre with that code" in response.content.decode()
    assert CostCentre.objects.filter(organisation=riverside).count() == 1


def test_editing_a_cost_centre_shows_its_budgets_and_saves(client, admin, riverside):
    centre = CostCentreFactory(organisation=riverside, code="RV7")
    BudgetFactory(cost_centre=centre, period_start=datetime.date(2026, 4, 1), amount=Decimal("900"))

    page = client.get(reverse("cost_centre_edit", args=[centre.pk])).content.decode()
    client.post(reverse("cost_centre_edit", args=[centre.pk]), {"code": "RV7", "name": "Renamed"})

    assert "1 Apr 2026" in page and "£900.00" in page
    centre.refresh_from_db()
    assert centre.name == "Renamed"
    assert not centre.is_active  # an unticked "Active" box retires the cost centre
