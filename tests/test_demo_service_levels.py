"""The demo shows service levels and sales reps: Riverside concierge through its contract with
Claire Donovan on every page, a self-service consumer offered the support plan, group reps who
see their customer groups in admin, and manager@demo.test's book of three accounts."""

import pytest
from django.test import Client
from django.urls import reverse
from guardian.shortcuts import get_objects_for_user

from accounts.models import Organisation, User
from pricing.book import rep_book
from segments.resolver import resolve
from segments.services import recompute_segments

pytestmark = pytest.mark.django_db


def _user(email):
    return User.objects.get(email=email)


def _client(email):
    client = Client()
    client.force_login(_user(email))
    return client


def test_riverside_is_concierge_by_contract_and_shows_its_account_manager(demo_world):
    buyer = resolve(_user("nhs.buyer@demo.test"))

    assert buyer.service_tier == "concierge"
    assert buyer.service_reason == "Concierge: set on contract NHS-2025-118"
    page = _client("nhs.buyer@demo.test").get(reverse("catalogue_home")).content.decode()
    assert "Claire Donovan" in page and "020 7946 0321" in page
    assert "account-manager-strip" not in _client("clinic.buyer@demo.test").get(
        reverse("catalogue_home")).content.decode()


def test_a_self_service_consumer_is_offered_the_support_plan(demo_world):
    assert recompute_segments(full=False).error == ""

    assert resolve(_user("aidan.byrne@demo.test")).service_tier == "self_service"
    assert resolve(_user("patient@demo.test")).service_tier != "self_service"


def test_group_reps_see_their_groups_and_manager_keeps_three_accounts(demo_world):
    def scope(email):
        return set(get_objects_for_user(_user(email), "accounts.change_organisation",
                                        klass=Organisation, accept_global_perms=False)
                   .values_list("name", flat=True))

    primary, north = scope("rep.primary@demo.test"), scope("rep.north@demo.test")

    assert "Wharfedale Group Practice" in primary and "Abbey Road Medical Centre" in primary
    assert north == {"Tyne Bridge Hospitals NHS Foundation Trust",
                     "Durham Pain Management Clinic"}
    book = rep_book(user=_user("manager@demo.test"))
    assert {a.organisation.name for a in book.accounts} == scope("manager@demo.test")
    assert len(book.accounts) == 3 and book.quotes
