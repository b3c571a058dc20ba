import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from pricing import services
from pricing.engine import prices_for
from pricing.models import Quote, QuoteStatus
from segments.resolver import resolve
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

from .conftest import EVERYONE, b2b, b2c, make_list, make_product, open_catalogue, price, today

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager():
    return UserFactory(is_staff=True)


@pytest.fixture
def trust(manager):
    return OrganisationFactory(account_manager=manager)


def _requested(trust, product, quantity=100):
    return services.quote_request(
        buyer=b2b(trust), lines=[(product, quantity, Decimal("5.00"))], note="Winter stock"
    )


def test_request_answer_accept_makes_the_quoted_price_apply(trust, manager):
    product = make_product()
    price(make_list("list"), product, "10.00")
    quote = _requested(trust, product)

    services.quote_answer(
        quote=quote,
        actor=manager,
        prices={product.pk: Decimal("6.40")},
        expires_on=today() + datetime.timedelta(days=14),
    )
    services.quote_accept(buyer=b2b(trust), quote=quote)

    resolved = prices_for(b2b(trust), [product], 100)[product.pk]
    assert quote.number.startswith("Q-")
    assert (resolved.source, resolved.unit_price) == ("quote", Decimal("6.4000"))


def test_another_organisations_buyer_cannot_accept(trust, manager):
    product = make_product()
    quote = _requested(trust, product)
    services.quote_answer(
        quote=quote, actor=manager, prices={product.pk: "6.40"}, expires_on=today()
    )

    with pytest.raises(services.QuoteError) as error:
        services.quote_accept(buyer=b2b(OrganisationFactory()), quote=quote)

    assert error.value.code == "not_found"
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.ANSWERED


def test_a_manager_of_other_organisations_cannot_answer(trust):
    product = make_product()
    quote = _requested(trust, product)
    stranger = UserFactory(is_staff=True)
    OrganisationFactory(account_manager=stranger)

    with pytest.raises(services.QuoteError):
        services.quote_answer(
            quote=quote, actor=stranger, prices={product.pk: "1.00"}, expires_on=today()
        )

    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.REQUESTED


@pytest.mark.parametrize("action", ["accept", "reject"])
def test_a_requested_quote_cannot_be_accepted_or_rejected_before_an_answer(trust, action):
    quote = _requested(trust, make_product())

    with pytest.raises(services.QuoteError) as error:
        getattr(services, f"quote_{action}")(buyer=b2b(trust), quote=quote)

    assert error.value.code == "wrong_state"


def test_an_expired_answer_cannot_be_accepted(trust, manager):
    product = make_product()
    quote = _requested(trust, product)
    services.quote_answer(
        quote=quote, actor=manager, prices={product.pk: "6.40"}, expires_on=today()
    )
    Quote.objects.filter(pk=quote.pk).update(expires_on=today() - datetime.timedelta(days=1))

    with pytest.raises(services.QuoteError) as error:
        services.quote_accept(buyer=b2b(trust), quote=quote)

    assert error.value.code == "expired"


def test_revision_keeps_the_earlier_one_and_starts_again(trust, manager):
    product = make_product()
    quote = _requested(trust, product)
    services.quote_answer(
        quote=quote, actor=manager, prices={product.pk: "7.00"}, expires_on=today()
    )

    revision = services.quote_revise(quote=quote, buyer=b2b(trust), note="Can you reach 6.00?")

    quote.refresh_from_db()
    assert (quote.status, quote.lines.get().unit_price) == (QuoteStatus.SUPERSEDED, Decimal("7.00"))
    assert (revision.number, revision.revision, revision.status) == (
        quote.number,
        2,
        QuoteStatus.REQUESTED,
    )
    assert revision.lines.get().quantity == 100
    assert quote.history.count() >= 3


def test_consumers_cannot_request_quotes():
    with pytest.raises(services.QuoteError) as error:
        services.quote_request(buyer=b2c(), lines=[(make_product(), 1, None)])

    assert error.value.code == "not_b2b"


# ---- the storefront pages -------------------------------------------------------------------


@pytest.fixture
def signed_in(client, trust):
    from segments.models import Segment

    open_catalogue(segments=[Segment.objects.get(code=EVERYONE)], organisations=[trust])
    member = MembershipFactory(organisation=trust, is_buyer=True)
    client.force_login(member.user)
    return member


def test_buyer_requests_a_quote_through_the_page(client, signed_in, trust):
    product = make_product("GLV-NIT-M")

    response = client.post(reverse("quote_request"), {"lines": "glv-nit-m 500 0.08", "note": ""})

    quote = Quote.objects.get(organisation=trust)
    assert response.status_code == 302
    assert (quote.lines.get().product, quote.lines.get().quantity) == (product, 500)
    assert quote.number in client.get(reverse("quote_list")).content.decode()


def test_another_organisations_quote_is_a_404_and_stays_untouched(client, signed_in, manager):
    other = OrganisationFactory(account_manager=manager)
    product = make_product()
    theirs = services.quote_request(buyer=b2b(other), lines=[(product, 5, None)])
    services.quote_answer(
        quote=theirs, actor=manager, prices={product.pk: "3.00"}, expires_on=today()
    )

    page = client.get(reverse("quote_detail", args=[theirs.pk]))
    accept = client.post(reverse("quote_accept", args=[theirs.pk]))

    assert (page.status_code, accept.status_code) == (404, 404)
    assert Quote.objects.get(pk=theirs.pk).status == QuoteStatus.ANSWERED


def test_buyer_accepts_own_answered_quote_on_the_page(client, signed_in, trust, manager):
    product = make_product()
    quote = services.quote_request(buyer=resolve(signed_in.user), lines=[(product, 5, None)])
    services.quote_answer(
        quote=quote, actor=manager, prices={product.pk: "3.00"}, expires_on=today()
    )

    response = client.post(reverse("quote_accept", args=[quote.pk]))

    assert response.status_code == 302
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.ACCEPTED


def test_consumer_gets_no_quote_pages(client):
    client.force_login(UserFactory(postcode="SE22 8EF"))

    assert client.get(reverse("quote_list")).status_code == 403
