"""The reporting aggregates against rows worked out by hand: two organisations and a consumer over
two days, two categories and three price sources, a cancelled and a EUR order that do not count, a
line delivered to a site in another postcode area, and a buyer who left a computed segment between
the days. Then: a refresh after placing or cancelling an order writes what a rebuild would."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from insights.models import AggregatesState, BuyerDay, SalesDay, SegmentSet, SegmentSize
from insights.services.aggregates import rebuild, refresh
from insights.services.segment_sets import local_zone
from ordering.models import Order
from segments.models import ComputedBasis, ComputedMembership, SegmentKind, SegmentMovement
from tests.catalog.factories import CategoryFactory, ProductFactory
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.factories.accounts import SiteFactory
from tests.factories.orders_reporting import reporting_order
from tests.factories.segment_runs import computed_segment
from tests.factories.segments import (
    SegmentConditionFactory,
    SegmentFactory,
    SegmentMembershipFactory,
)

pytestmark = pytest.mark.django_db

FIGURES = ("orders", "lines", "units", "revenue", "costed_revenue", "cost", "listed_revenue",
           "list_value")


def local(day: datetime.date, hour: int) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=local_zone())


@pytest.fixture
def world():
    today = timezone.localdate()
    day1, day2 = today - datetime.timedelta(days=2), today - datetime.timedelta(days=1)
    dressings = CategoryFactory(name="Dressings", slug="dressings")
    catheters = CategoryFactory(name="Catheters", slug="catheters")
    dressing = ProductFactory(category=dressings, cost_price=Decimal("4.00"))
    catheter = ProductFactory(category=catheters)
    trust = OrganisationFactory(name="Riverside")
    clinic = OrganisationFactory(name="Harbour Physio", kind="private_clinic", postcode="M1 1AE")
    ward = SiteFactory(organisation=trust, postcode="SE1 7EH")
    leeds = SiteFactory(organisation=trust, postcode="LS1 4AP")
    clinic_site = SiteFactory(organisation=clinic, postcode="M1 1AE")
    nurse = MembershipFactory(organisation=trust).user
    physio = MembershipFactory(organisation=clinic).user
    patient = UserFactory(email="patient@demo.test")

    contract = {"price_source": "contract", "price_list_code": "nhs-1"}
    reporting_order(nurse, trust, local(day1, 10), site=ward, lines=[
        (dressing, 10, "100.00", "4.00", "12.00", contract, ward),
        (catheter, 2, "50.00", None, "30.00", {"price_list_code": "list-gbp"}, leeds),
    ])
    second = reporting_order(nurse, trust, local(day1, 15), site=ward, state="submitted", lines=[
        (dressing, 5, "50.00", "4.00", "12.00", contract, ward),
    ])
    reporting_order(nurse, trust, local(day2, 9), site=ward, state="shipped", lines=[
        (dressing, 1, "10.00", "4.00", "12.00", contract, ward),
    ])
    reporting_order(nurse, trust, local(day1, 11), site=ward, state="cancelled", lines=[
        (dressing, 100, "1000.00", "4.00", "12.00", contract, ward),
    ])
    reporting_order(physio, clinic, local(day2, 10), site=clinic_site, currency="EUR", lines=[
        (catheter, 1, "25.00", None, "30.00", {}, None),
    ])
    segment_price = {"price_source": "segment", "price_list_code": "clinic-volume"}
    reporting_order(physio, clinic, local(day2, 11), site=clinic_site, lines=[
        (catheter, 3, "90.00", None, "30.00", segment_price, None),
    ])
    retail = {"price_source": "retail", "price_list_code": "retail-gbp"}
    reporting_order(patient, None, local(day1, 20), postcode="EH1 1YZ", lines=[
        (dressing, 2, "20.00", "4.00", "12.00", retail, None),
    ])

    champions = computed_segment("champions", ComputedBasis.RFM_GROUP, "champions")
    # The trust entered Champions a month ago and left it on day 2; the clinic is a member with
    # no movement recorded (the current membership stands for every day).
    SegmentMovement.objects.create(segment=champions, organisation=trust, direction="entered",
                                   at=local(today - datetime.timedelta(days=30), 3))
    SegmentMovement.objects.create(segment=champions, organisation=trust, direction="exited",
                                   at=local(day2, 3))
    ComputedMembership.objects.create(segment=champions, organisation=clinic,
                                      computed_at=timezone.now())
    nhs = SegmentFactory(code="nhs", kind=SegmentKind.STATIC)
    SegmentMembershipFactory(segment=nhs, organisation=trust)
    clinics = SegmentConditionFactory(value="private_clinic", segment__code="clinics").segment
    return {
        "today": today, "day1": day1, "day2": day2, "trust": trust, "clinic": clinic,
        "patient": patient, "nurse": nurse, "second": second, "dressings": dressings,
        "catheters": catheters, "champions": champions, "nhs": nhs, "clinics": clinics,
        "dressing": dressing, "ward": ward,
    }


def _key(*segments) -> str:
    return ",".join(str(pk) for pk in sorted(s.pk for s in segments))


def _buyer(row) -> str:
    return f"org {row.organisation_id}" if row.organisation_id else f"user {row.user_id}"


def sales_rows() -> set[tuple]:
    return {
        (_buyer(r), r.day, r.category_id, r.price_source, r.price_list_code, r.postcode_area,
         SegmentSet.objects.get(pk=r.segment_set_id).key,
         *(getattr(r, name) for name in FIGURES))
        for r in SalesDay.objects.all()
    }


def buyer_rows() -> set[tuple]:
    return {
        (_buyer(r), r.day, SegmentSet.objects.get(pk=r.segment_set_id).key,
         *(getattr(r, name) for name in FIGURES))
        for r in BuyerDay.objects.all()
    }


def sizes() -> set[tuple]:
    return set(SegmentSize.objects.values_list("segment__code", "day", "members"))


def money(*values) -> tuple:
    return tuple(Decimal(v) for v in values)


def test_a_rebuild_writes_the_rows_worked_out_by_hand(world):
    w = world
    trust, clinic = f"org {w['trust'].pk}", f"org {w['clinic'].pk}"
    patient = f"user {w['patient'].pk}"
    trust_day1 = _key(w["champions"], w["nhs"])
    trust_day2 = _key(w["nhs"])
    clinic_key = _key(w["champions"], w["clinics"])

    run = rebuild()

    dressings, catheters = w["dressings"].pk, w["catheters"].pk
    assert sales_rows() == {
        (trust, w["day1"], dressings, "contract", "nhs-1", "SE", trust_day1,
         2, 2, 15, *money("150.00", "150.00", "60.00", "150.00", "180.00")),
        (trust, w["day1"], catheters, "list", "list-gbp", "LS", trust_day1,
         1, 1, 2, *money("50.00", "0", "0", "50.00", "60.00")),
        (trust, w["day2"], dressings, "contract", "nhs-1", "SE", trust_day2,
         1, 1, 1, *money("10.00", "10.00", "4.00", "10.00", "12.00")),
        (clinic, w["day2"], catheters, "segment", "clinic-volume", "M", clinic_key,
         1, 1, 3, *money("90.00", "0", "0", "90.00", "90.00")),
        (patient, w["day1"], dressings, "retail", "retail-gbp", "EH", "",
         1, 1, 2, *money("20.00", "20.00", "8.00", "20.00", "24.00")),
    }
    assert buyer_rows() == {
        (trust, w["day1"], trust_day1, 2, 3, 17,
         *money("200.00", "150.00", "60.00", "200.00", "240.00")),
        (trust, w["day2"], trust_day2, 1, 1, 1, *money("10.00", "10.00", "4.00", "10.00", "12.00")),
        (clinic, w["day2"], clinic_key, 1, 1, 3, *money("90.00", "0", "0", "90.00", "90.00")),
        (patient, w["day1"], "", 1, 1, 2, *money("20.00", "20.00", "8.00", "20.00", "24.00")),
    }
    assert (run.sales_rows, run.buyer_days) == (5, 4)
    assert {s.key for s in SegmentSet.objects.all()} >= {trust_day1, trust_day2, clinic_key, ""}
    assert set(SegmentSet.objects.get(key=clinic_key).segments.values_list("code", flat=True)) \
        == {"champions", "clinics"}


def test_a_rebuild_writes_the_segment_sizes_of_today_and_the_computed_ones_history(world):
    w = world
    rebuild()

    today, day2 = w["today"], w["day2"]
    first = today - datetime.timedelta(days=30)
    champions = {(code, day, n) for code, day, n in sizes() if code == "champions"}
    # The clinic (no movement) every day; the trust from its entry up to day 2, when it left.
    expected = {("champions", first + datetime.timedelta(days=n), 2) for n in range(29)}
    expected |= {("champions", day2, 1), ("champions", today, 1)}
    assert champions == expected
    assert {row for row in sizes() if row[0] != "champions"} == {
        ("nhs", today, 1), ("clinics", today, 1),
    }


def test_a_day_is_the_day_in_the_site_s_time_zone():
    summer_evening = datetime.datetime(2026, 6, 1, 23, 30, tzinfo=datetime.UTC)  # 00:30 in London
    product = ProductFactory()
    buyer = UserFactory()
    reporting_order(buyer, None, summer_evening, postcode="SE1 7EH",
                    lines=[(product, 1, "5.00", None, None, {}, None)])

    rebuild()

    assert list(BuyerDay.objects.values_list("day", flat=True)) == [datetime.date(2026, 6, 2)]


def test_a_refresh_after_placing_and_cancelling_orders_writes_what_a_rebuild_would(world):
    w = world
    rebuild()
    reporting_order(w["nurse"], w["trust"], timezone.now() - datetime.timedelta(minutes=1),
                    site=w["ward"], lines=[(w["dressing"], 3, "30.00", "4.00", "12.00", {}, None)])
    second = Order.objects.get(pk=w["second"].pk)
    second.state = "cancelled"
    second.save(update_fields=["state", "updated_at"])

    refresh()
    refreshed = (sales_rows(), buyer_rows(), sizes())
    rebuild()

    assert refreshed == (sales_rows(), buyer_rows(), sizes())
    assert any(row[1] == w["today"] for row in refreshed[1])
    assert AggregatesState.objects.get().refreshed_at is not None


def test_a_refresh_leaves_the_rows_of_untouched_buyer_days_as_they_are(world):
    rebuild()
    before = set(SalesDay.objects.filter(day__lt=world["today"] - datetime.timedelta(days=1))
                 .values_list("pk", flat=True))

    refresh()

    after = set(SalesDay.objects.values_list("pk", flat=True))
    assert before <= after


def _queries(work) -> int:
    with CaptureQueriesContext(connection) as captured:
        work()
    return len(captured)


def _more_buyers(count: int, product) -> None:
    for n in range(count):
        organisation = OrganisationFactory(name=f"Clinic {n}", kind="private_clinic")
        user = MembershipFactory(organisation=organisation).user
        reporting_order(user, organisation, timezone.now() - datetime.timedelta(days=3 + n % 2),
                        lines=[(product, 1, "9.00", "3.00", "10.00", {}, None)])
        reporting_order(UserFactory(), None, timezone.now() - datetime.timedelta(minutes=2),
                        postcode="LS1 4AP", lines=[(product, 2, "9.00", None, "5.00", {}, None)])


def test_a_rebuild_and_a_refresh_take_as_many_statements_for_many_buyers_as_for_few(world):
    rebuild()  # the first one creates the state row
    rebuild_few, refresh_few = _queries(rebuild), _queries(refresh)
    _more_buyers(12, world["dressing"])

    assert _queries(rebuild) == rebuild_few
    refresh()
    _more_buyers(3, world["dressing"])
    assert _queries(refresh) == refresh_few


def test_a_rebuild_keeps_the_past_sizes_of_segments_that_keep_no_history(world):
    w = world
    SegmentSize.objects.create(day=w["day1"], segment=w["nhs"], members=5)
    SegmentSize.objects.create(day=w["day1"], segment=w["champions"], members=99)

    rebuild()

    assert ("nhs", w["day1"], 5) in sizes()
    assert ("champions", w["day1"], 2) in sizes()
