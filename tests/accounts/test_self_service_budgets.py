import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Budget
from tests.factories import BudgetFactory, CostCentreFactory, MembershipFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def riverside():
    return OrganisationFactory(name="Riverside University Hospitals NHS Foundation Trust")


@pytest.fixture
def admin(client, riverside):
    user = MembershipFactory(organisation=riverside, is_buyer=False, is_org_admin=True).user
    client.force_login(user)
    return user


def test_an_org_admin_sets_a_budget_for_a_period(client, admin, riverside):
    ward = CostCentreFactory(organisation=riverside, code="WARD7")

    response = client.post(
        reverse("budget_add", args=[ward.pk]),
        {"period_start": "2026-04-01", "period_end": "2027-03-31", "amount": "42000.00"},
    )

    assert response.status_code == 302
    budget = Budget.objects.get(cost_centre=ward)
    assert (budget.period_start, budget.amount) == (datetime.date(2026, 4, 1), Decimal("42000.00"))


def test_an_overlapping_or_backwards_period_is_an_error_and_saves_nothing(client, admin, riverside):
    ward = CostCentreFactory(organisation=riverside)
    BudgetFactory(cost_centre=ward)

    overlapping = client.post(
        reverse("budget_add", args=[ward.pk]),
        {"period_start": "2026-10-01", "period_end": "2027-09-30", "amount": "1000"},
    )
    backwards = client.post(
        reverse("budget_add", args=[ward.pk]),
        {"period_start": "2028-04-01", "period_end": "2027-04-01", "amount": "1000"},
    )

    assert overlapping.status_code == backwards.status_code == 400
    assert "overlaps another budget" in overlapping.content.decode()
    assert "must end after it starts" in backwards.content.decode()
    assert Budget.objects.filter(cost_centre=ward).count() == 1


def test_another_organisations_cost_centre_or_budget_is_not_found(client, admin):
    other_budget = BudgetFactory(cost_centre__organisation=OrganisationFactory(name="Northgate"))
    own = CostCentreFactory(organisation=admin.memberships.get().organisation)

    add_to_other = client.post(
        reverse("budget_add", args=[other_budget.cost_centre_id]),
        {"period_start": "2030-04-01", "period_end": "2031-03-31", "amount": "1"},
    )
    edit_other_through_own = client.post(
        reverse("budget_edit", args=[own.pk, other_budget.pk]),
        {"period_start": "2026-04-01", "period_end": "2027-03-31", "amount": "1"},
    )

    assert add_to_other.status_code == edit_other_through_own.status_code == 404
    other_budget.refresh_from_db()
    assert other_budget.amount == Decimal("50000.00")
    assert Budget.objects.count() == 1
