"""The rep's book in admin: exactly the accounts the account manager looks after (own and by
customer group), their segments and movement, lapsed and at-risk accounts, open quotes and a
propensity-ranked list; a fixed number of queries whatever the size of the book."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from pricing.models import Quote, QuoteStatus
from segments.coverage import account_coverage_sync
from segments.models import SegmentMovement
from tests.catalog.factories import CategoryFactory
from tests.factories import OrganisationFactory, SegmentFactory, SegmentMembershipFactory
from tests.factories.segment_runs import buyer_facts, propensity, propensity_model
from tests.factories.service_levels import account_manager, assign_rep


@pytest.fixture
def book_world(db):
    rep = account_manager("manager@demo.test", "Priya Shah")
    other = account_manager("other@demo.test", "Tom Hargreaves")
    group = SegmentFactory(code="book-group", name="Book group")
    assign_rep(rep, segment=group)
    return {"rep": rep, "other": other, "group": group, "model": propensity_model(),
            "category": CategoryFactory(name="Continence care")}


def _account(world, n, *, own=True):
    organisation = OrganisationFactory(name=f"Book Clinic {n:03d}",
                                       account_manager=world["rep"] if own else None)
    if not own:
        SegmentMembershipFactory(segment=world["group"], organisation=organisation)
        account_coverage_sync(organisation_ids=[organisation.pk])
    buyer_facts(organisation=organisation, rfm_group="at_risk" if n % 3 == 0 else "loyal",
                lapsed=n % 4 == 0, days_since_last_order=n)
    Quote.objects.create(organisation=organisation, number=f"QB-{n:03d}")
    propensity(world["model"], world["category"], 0.5 + n / 1000, organisation=organisation)
    SegmentMovement.objects.create(organisation=organisation, segment=world["group"],
                                   direction="entered", at=timezone.now())
    return organisation


def _book(client, user):
    client.force_login(user)
    client.get(reverse("rep_book"))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("rep_book"))
    assert response.status_code == 200
    return response, len(queries)


def test_the_book_holds_own_and_group_accounts_and_nobody_elses(client, book_world):
    mine = _account(book_world, 3)
    by_group = _account(book_world, 4, own=False)
    foreign = OrganisationFactory(name="Foreign Trust", account_manager=book_world["other"])
    Quote.objects.create(organisation=foreign, number="Q-FOREIGN")

    response, _ = _book(client, book_world["rep"])
    book = response.context["book"]

    assert [a.organisation.pk for a in book.accounts] == [mine.pk, by_group.pk]
    assert [a.why for a in book.accounts] == [
        "assigned to the organisation", "assigned to the segment Book group (book-group)"]
    assert [a.organisation.pk for a in book.lapsed] == [by_group.pk]
    assert [a.organisation.pk for a in book.at_risk] == [mine.pk]
    assert {q.number for q in book.quotes} == {"QB-003", "QB-004"}
    assert [s.organisation_id for s in book.likely] == [by_group.pk, mine.pk]
    assert "book-group" in book.accounts[1].segments
    assert "Foreign Trust" not in response.content.decode()


def test_the_book_runs_the_same_queries_at_two_sizes(client, book_world):
    for n in range(3):
        _account(book_world, n, own=n % 2 == 0)
    _, small = _book(client, book_world["rep"])
    for n in range(3, 25):
        _account(book_world, n, own=n % 2 == 0)

    response, large = _book(client, book_world["rep"])

    assert len(response.context["book"].accounts) == 25
    assert small == large


def test_a_superuser_opens_any_managers_book_and_a_manager_only_their_own(client, book_world):
    from tests.factories import UserFactory

    _account(book_world, 7)
    boss = UserFactory(email="boss@demo.test", is_staff=True, is_superuser=True)
    client.force_login(boss)
    url = f"{reverse('rep_book')}?manager={book_world['rep'].pk}"
    assert "Book Clinic 007" in client.get(url).content.decode()

    client.force_login(book_world["other"])
    other_url = f"{reverse('rep_book')}?manager={book_world['rep'].pk}"
    assert "Book Clinic 007" not in client.get(other_url).content.decode()


def test_quote_statuses_in_the_book_are_the_open_ones(client, book_world):
    organisation = _account(book_world, 5)
    Quote.objects.create(organisation=organisation, number="QB-DONE", status=QuoteStatus.REJECTED)

    response, _ = _book(client, book_world["rep"])

    assert "QB-DONE" not in {q.number for q in response.context["book"].quotes}


def test_every_admin_page_links_a_staff_member_to_their_book(client, book_world):
    client.force_login(book_world["rep"])

    page = client.get(reverse("rep_book")).content.decode()

    assert f'href="{reverse("rep_book")}"' in page and "My book" in page
