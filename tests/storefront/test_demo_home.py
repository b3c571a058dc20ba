"""Every demo persona's front page is useful and different for the right reasons."""

import re

import pytest
from django.utils import timezone

from accounts.models import Organisation, User
from segments.models import ComputedMembership, Segment
from segments.versioning import bump_buyers

pytestmark = pytest.mark.django_db

NHS_MESSAGE = "NHS framework NHS-2025-118"
CLINIC_OFFER = "Wound care for clinics"
DISTRIBUTOR_NOTICE = "Distributors: answer routed orders"
CONSUMER_CATEGORIES = "Shop for home and daily living"
WIN_BACK = "We would like you back"


def _home(client, email: str | None) -> str:
    client.logout()
    if email:
        client.force_login(User.objects.get(email=email))
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def _panels(page: str) -> set[str]:
    return set(re.findall(r'data-panel="([\w-]+)"', page))


@pytest.mark.parametrize(("email", "shown", "not_shown", "panels"), [
    ("nhs.buyer@demo.test", [NHS_MESSAGE], [CLINIC_OFFER, DISTRIBUTOR_NOTICE],
     {"orders", "budgets", "account-manager"}),
    ("nhs.approver@demo.test", [NHS_MESSAGE], [CLINIC_OFFER], {"orders", "approvals"}),
    ("nhs.budget@demo.test", [NHS_MESSAGE], [CLINIC_OFFER], {"approvals", "budgets"}),
    ("clinic.buyer@demo.test", [CLINIC_OFFER, "Because you are in Private clinics"],
     [NHS_MESSAGE, DISTRIBUTOR_NOTICE, CONSUMER_CATEGORIES], {"orders"}),
    ("distributor.north@demo.test", [DISTRIBUTOR_NOTICE], [NHS_MESSAGE, CLINIC_OFFER],
     {"routed", "orders"}),
    ("patient@demo.test", [CONSUMER_CATEGORIES, "Spring mobility offer"],
     [NHS_MESSAGE, CLINIC_OFFER, DISTRIBUTOR_NOTICE], {"orders"}),
    (None, ["Living independently at home", CONSUMER_CATEGORIES],
     [NHS_MESSAGE, CLINIC_OFFER], {"landing"}),
])
def test_each_persona_sees_the_blocks_and_panels_of_their_kind_only(
    demo_world, client, email, shown, not_shown, panels
):
    page = _home(client, email)

    for text in shown:
        assert text in page
    for text in not_shown:
        assert text not in page
    assert panels <= _panels(page)


def test_a_consumer_never_sees_an_organisations_panels(demo_world, client):
    assert _panels(_home(client, "patient@demo.test")).isdisjoint(
        {"approvals", "budgets", "routed", "account-manager"})


def test_the_win_back_offer_reaches_an_account_once_the_analysis_puts_it_at_risk(
    demo_world, client
):
    harbour = Organisation.objects.get(name="Harbour Physiotherapy Clinic")
    assert WIN_BACK not in _home(client, "clinic.buyer@demo.test")

    ComputedMembership.objects.create(segment=Segment.objects.get(code="rfm-at-risk"),
                                      organisation=harbour, inputs={},
                                      computed_at=timezone.now())
    bump_buyers(organisation_ids=[harbour.pk])

    page = _home(client, "clinic.buyer@demo.test")
    assert WIN_BACK in page and "Because you are in At risk" in page
    assert WIN_BACK not in _home(client, "trust2.buyer@demo.test")
