"""A small, hand-counted world for the segment dashboard: three organisations (two looked after by
Priya, one by Tom), a retail consumer, two categories and the aggregates of their sales in
1-14 November 2026 and the 14 days before, segment sizes and moves.

The expected figures in the tests are worked out by hand from the rows below."""

import datetime
from dataclasses import dataclass

from django.contrib.auth.models import Permission

from accounts.models import OrganisationKind
from segments.models import Audience, ComputedBasis, ComputedMembership, SegmentRun
from tests.catalog.factories import CategoryFactory
from tests.factories import (
    OrganisationFactory,
    SegmentConditionFactory,
    SegmentFactory,
    SegmentMembershipFactory,
    UserFactory,
)
from tests.factories.insights import buyer_day, moved, sales_day, segment_size
from tests.factories.segment_runs import computed_segment

D = datetime.date
PERIOD = {"start": "2026-11-01", "end": "2026-11-14"}


@dataclass
class World:
    superuser: object
    priya: object
    tom: object
    riverside: object
    harbour: object
    northgate: object
    patient: object
    segments: dict
    categories: dict


def reporter(**fields):
    """A staff member who may open the reports."""
    user = UserFactory(is_staff=True, **fields)
    user.user_permissions.add(Permission.objects.get(codename="view_reports",
                                                     content_type__app_label="insights"))
    return user


def _segments() -> dict:
    return {
        "nhs": SegmentFactory(code="report-nhs", name="Report NHS trusts"),
        "trusts_rule": SegmentConditionFactory(
            segment__code="report-trusts-rule", segment__name="Trusts by rule", field="kind",
            value="nhs_trust").segment,
        "loyal": computed_segment("report-loyal", ComputedBasis.RFM_GROUP, "loyal",
                                  name="Loyal"),
        "at_risk": computed_segment("report-at-risk", ComputedBasis.RFM_GROUP, "at_risk",
                                    name="At risk"),
        "lapsed": computed_segment("report-lapsed", ComputedBasis.LAPSED, name="Lapsed"),
        "c_loyal": computed_segment("report-consumer-loyal", ComputedBasis.RFM_GROUP, "loyal",
                                    audience=Audience.CONSUMERS, name="Loyal consumers"),
        "c_at_risk": computed_segment("report-consumer-at-risk", ComputedBasis.RFM_GROUP,
                                      "at_risk", audience=Audience.CONSUMERS,
                                      name="Consumers at risk"),
    }


def _buyer_days(w: World) -> None:
    s = w.segments
    nhs_loyal = (s["nhs"], s["loyal"])
    money = ("revenue", "costed_revenue", "cost", "listed_revenue", "list_value")

    def figures(orders, units, *amounts):
        return {"orders": orders, "units": units, **dict(zip(money, amounts, strict=True))}

    buyer_day(D(2026, 11, 3), organisation=w.riverside, segments=nhs_loyal,
              **figures(2, 30, 1000, 800, 600, 1000, 1250))
    buyer_day(D(2026, 11, 10), organisation=w.riverside, segments=nhs_loyal,
              **figures(1, 10, 500, 0, 0, 500, 500))
    buyer_day(D(2026, 11, 5), organisation=w.harbour, segments=(s["loyal"],),
              **figures(1, 4, 200, 200, 150, 0, 0))
    buyer_day(D(2026, 11, 12), organisation=w.northgate, segments=(s["nhs"],),
              **figures(3, 50, 3000, 3000, 2000, 3000, 4000))
    buyer_day(D(2026, 11, 8), user=w.patient, **figures(1, 1, 40, 40, 30, 40, 50))
    buyer_day(D(2026, 10, 20), organisation=w.riverside, segments=nhs_loyal,
              **figures(1, 10, 800, 800, 640, 800, 1000))
    buyer_day(D(2026, 10, 25), organisation=w.northgate, segments=(s["nhs"],),
              **figures(2, 20, 1500, 0, 0, 1500, 1500))
    buyer_day(D(2026, 9, 1), organisation=w.riverside, segments=nhs_loyal,
              **figures(9, 99, 9999, 0, 0, 0, 0))


def _sales_days(w: World) -> None:
    s, wound, mobility = w.segments, w.categories["wound"], w.categories["mobility"]
    nhs_loyal = (s["nhs"], s["loyal"])
    contract = {"price_source": "contract", "price_list_code": "NHS-2024-118"}
    money = ("revenue", "costed_revenue", "cost", "listed_revenue", "list_value")

    def figures(orders, units, *amounts):
        return {"orders": orders, "units": units, **dict(zip(money, amounts, strict=True))}

    sales_day(D(2026, 11, 3), wound, organisation=w.riverside, segments=nhs_loyal,
              postcode_area="SE", **contract, **figures(2, 30, 1000, 800, 600, 1000, 1250))
    sales_day(D(2026, 11, 10), mobility, organisation=w.riverside, segments=nhs_loyal,
              postcode_area="SE", **figures(1, 10, 500, 0, 0, 500, 500))
    sales_day(D(2026, 11, 5), wound, organisation=w.harbour, segments=(s["loyal"],),
              postcode_area="PL", **figures(1, 4, 200, 200, 150, 0, 0))
    sales_day(D(2026, 11, 12), wound, organisation=w.northgate, segments=(s["nhs"],),
              postcode_area="LS", **contract, **figures(3, 30, 2000, 2000, 1300, 2000, 2600))
    sales_day(D(2026, 11, 12), mobility, organisation=w.northgate, segments=(s["nhs"],),
              postcode_area="LS", **contract, **figures(3, 20, 1000, 1000, 700, 1000, 1400))
    sales_day(D(2026, 11, 8), mobility, user=w.patient, price_source="retail",
              postcode_area="SE", **figures(1, 1, 40, 40, 30, 40, 50))
    sales_day(D(2026, 10, 20), wound, organisation=w.riverside, segments=nhs_loyal,
              postcode_area="SE", **contract, **figures(1, 10, 800, 800, 640, 800, 1000))
    sales_day(D(2026, 10, 25), mobility, organisation=w.northgate, segments=(s["nhs"],),
              postcode_area="LS", **figures(2, 20, 1500, 0, 0, 1500, 1500))
    sales_day(D(2026, 9, 1), wound, organisation=w.riverside, segments=nhs_loyal,
              postcode_area="SE", **figures(9, 99, 9999, 0, 0, 0, 0))


def _sizes_and_moves(w: World) -> None:
    s = w.segments
    for segment, counts in (
        (s["loyal"], {D(2026, 10, 31): 100, D(2026, 11, 3): 104, D(2026, 11, 7): 110,
                      D(2026, 11, 14): 108}),
        (s["at_risk"], {D(2026, 10, 31): 20, D(2026, 11, 10): 25}),
        (s["nhs"], {D(2026, 10, 31): 3, D(2026, 11, 14): 3}),
    ):
        for day, members in counts.items():
            segment_size(segment, day, members)
    run = SegmentRun.objects.create(full=True)
    moved(s["loyal"], s["at_risk"], D(2026, 11, 9), organisation=w.riverside, run=run)
    moved(s["loyal"], s["lapsed"], D(2026, 11, 9), organisation=w.harbour, run=run)
    moved(s["loyal"], s["at_risk"], D(2026, 11, 12), organisation=w.harbour)
    moved(s["at_risk"], s["loyal"], D(2026, 11, 6), organisation=w.northgate)
    moved(s["loyal"], s["at_risk"], D(2026, 10, 20), organisation=w.northgate)
    moved(s["c_loyal"], s["c_at_risk"], D(2026, 11, 4), user=w.patient)
    SegmentMembershipFactory(segment=s["nhs"], organisation=w.riverside)
    SegmentMembershipFactory(segment=s["nhs"], organisation=w.northgate)
    for organisation in (w.riverside, w.harbour):
        ComputedMembership.objects.create(segment=s["at_risk"], organisation=organisation,
                                          computed_at=run.started_at)


def build_world() -> World:
    priya = reporter(email="priya.reports@demo.test", full_name="Priya Shah")
    tom = reporter(email="tom.reports@demo.test", full_name="Tom Hargreaves")
    w = World(
        superuser=UserFactory(email="boss.reports@demo.test", is_staff=True, is_superuser=True),
        priya=priya, tom=tom,
        riverside=OrganisationFactory(name="Riverside University Hospitals NHS FT",
                                      account_manager=priya),
        harbour=OrganisationFactory(name="Harbour Physiotherapy Clinic", postcode="PL1 2AB",
                                    kind=OrganisationKind.PRIVATE_CLINIC, account_manager=priya),
        northgate=OrganisationFactory(name="Northgate Hospitals NHS Trust", postcode="LS1 3EX",
                                      account_manager=tom),
        patient=UserFactory(email="patient.reports@demo.test", full_name="Pat Walker"),
        segments=_segments(),
        categories={"wound": CategoryFactory(name="Wound care", slug="report-wound-care"),
                    "mobility": CategoryFactory(name="Mobility", slug="report-mobility")},
    )
    _buyer_days(w)
    _sales_days(w)
    _sizes_and_moves(w)
    return w
