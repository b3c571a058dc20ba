"""The staff quote queue: waiting requests first, concierge accounts' first among them, then
standard, then self-service, the oldest first within a tier."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from pricing.models import Quote, QuoteStatus
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.segment_runs import buyer_facts
from tests.factories.service_levels import contract_promising


def _quote(organisation, number, *, hours_ago, status=QuoteStatus.REQUESTED):
    quote = Quote.objects.create(
        organisation=organisation, number=number, status=status,
        expires_on=None if status == QuoteStatus.REQUESTED
        else timezone.localdate() + datetime.timedelta(days=9),
    )
    Quote.objects.filter(pk=quote.pk).update(
        requested_at=timezone.now() - datetime.timedelta(hours=hours_ago))
    return quote


@pytest.mark.django_db
def test_concierge_requests_come_first_in_the_staff_queue(client):
    standard = OrganisationFactory(name="Standard Clinic")
    low = OrganisationFactory(name="Small Clinic")
    buyer_facts(organisation=low, value_tier="self_service")
    concierge = OrganisationFactory(name="Contract Trust")
    contract_promising(concierge, "concierge")
    _quote(low, "Q-LOW", hours_ago=50)
    _quote(standard, "Q-STD-OLD", hours_ago=40)
    _quote(standard, "Q-STD-NEW", hours_ago=2)
    _quote(concierge, "Q-CON", hours_ago=1)
    _quote(concierge, "Q-CON-DONE", hours_ago=90, status=QuoteStatus.ANSWERED)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.get(reverse("admin:pricing_quote_changelist"))

    numbers = [quote.number for quote in response.context["cl"].result_list]
    assert numbers == ["Q-CON", "Q-STD-OLD", "Q-STD-NEW", "Q-LOW", "Q-CON-DONE"]
    assert "Concierge" in response.content.decode()
