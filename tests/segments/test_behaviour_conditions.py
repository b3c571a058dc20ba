"""Rule conditions on purchase history, evaluated in SQL from the stored facts, against an oracle
written from their definitions: a buyer without facts never ordered; a band runs from its lower
end up to, not including, its upper end; a category includes the categories below it."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from segments.models import BuyerCategoryFacts, BuyerFacts, SegmentCondition, SegmentKind
from segments.resolver import resolve
from segments.rules import rule_segment_members
from segments.selectors import segment_explanations
from tests.admin.forms import post_data
from tests.catalog.factories import CategoryFactory
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    SegmentConditionFactory,
    SegmentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()
BELOW = {
    "urology": {"urology", "catheters"}, "catheters": {"catheters"}, "dressings": {"dressings"},
}

# name: (days since the last order or None, orders in total, in 12 months, revenue 12 months,
#        {category: days since last bought}); "D" has no facts row at all.
HISTORIES = {
    "A": (10, 8, 6, "6000.00", {"catheters": 10, "dressings": 200}),
    "B": (100, 3, 2, "1000.00", {"dressings": 100}),
    "C": (None, 0, 0, "0.00", {}),
    "D": None,
    "E": (400, 1, 0, "0.00", {"urology": 400}),
    "F": (31, 5, 5, "4999.99", {"catheters": 31}),
}


def _ago(days):
    return NOW - datetime.timedelta(days=days)


@pytest.fixture
def categories():
    urology = CategoryFactory(name="Urology", slug="urology")
    return {
        "urology": urology,
        "catheters": CategoryFactory(name="Catheters", slug="catheters", parent=urology),
        "dressings": CategoryFactory(name="Dressings", slug="dressings"),
    }


def _write_facts(buyer_field, buyer, history, categories):
    if history is None:
        return
    days, total, in_year, revenue, bought = history
    facts = BuyerFacts.objects.create(
        **{buyer_field: buyer}, last_order_at=_ago(days) if days else None,
        first_order_at=_ago(800) if days else None, orders_total=total, orders_12m=in_year,
        revenue_12m=Decimal(revenue), computed_at=NOW,
    )
    for slug, since in bought.items():
        BuyerCategoryFacts.objects.create(
            facts=facts, category=categories[slug], first_bought_at=_ago(since + 30),
            last_bought_at=_ago(since), orders_total=1,
        )


@pytest.fixture
def buyers(categories):
    """The same histories for organisations (each with a buying member) and for consumers."""
    organisations, consumers = {}, {}
    for name, history in HISTORIES.items():
        organisations[name] = OrganisationFactory(name=f"Organisation {name}")
        MembershipFactory(organisation=organisations[name], user__email=f"buyer.{name}@demo.test")
        consumers[name] = UserFactory(email=f"consumer.{name}@demo.test")
        _write_facts("organisation", organisations[name], history, categories)
        _write_facts("user", consumers[name], history, categories)
    return {"organisations": organisations, "consumers": consumers, "categories": categories}


def oracle(field, value, history) -> bool:
    """Does the condition (operator "is") hold for a history, from the definitions alone."""
    days, _total, in_year, revenue, bought = history or (None, 0, 0, "0", {})
    revenue = Decimal(revenue)
    if field == "last_order_over_days":
        return days is None or days > int(value)
    if field == "never_ordered":
        return (days is None) == (value == "true")
    if field == "revenue_12m_band":
        low, high = value.split("-")
        return Decimal(low) <= revenue and (not high or revenue < Decimal(high))
    if field == "orders_12m_at_least":
        return in_year >= int(value)
    if field == "orders_12m_at_most":
        return in_year <= int(value)
    slug, *within = value.split()
    slug = {"by-id": "dressings"}.get(slug, slug)
    hits = [since for category, since in bought.items() if category in BELOW[slug]]
    if field == "bought_category_days":
        return any(since <= int(within[0]) for since in hits)
    return not hits


CONDITIONS = [
    ("last_order_over_days", "30"), ("last_order_over_days", "365"),
    ("never_ordered", "true"), ("never_ordered", "false"),
    ("revenue_12m_band", "1000-5000"), ("revenue_12m_band", "5000-"),
    ("revenue_12m_band", "0-1000"), ("revenue_12m_band", "4999.99-5000"),
    ("orders_12m_at_least", "2"), ("orders_12m_at_least", "6"), ("orders_12m_at_most", "2"),
    ("bought_category_days", "urology 30"), ("bought_category_days", "catheters 60"),
    ("bought_category_days", "urology 500"), ("bought_category_days", "by-id 365"),
    ("not_bought_category", "urology"), ("not_bought_category", "dressings"),
]


def _value(value, categories):
    return value.replace("by-id", str(categories["dressings"].pk))


@pytest.mark.parametrize("audience", ["organisations", "consumers"])
@pytest.mark.parametrize("operator", ["is", "is_not"])
@pytest.mark.parametrize(("field", "value"), CONDITIONS)
def test_a_behaviour_condition_selects_what_the_oracle_says(buyers, audience, operator, field,
                                                            value):
    condition = SegmentConditionFactory(
        segment__audience=audience, field=field, operator=operator,
        value=_value(value, buyers["categories"]),
    )
    condition.full_clean()
    population = buyers[audience]

    members = set(rule_segment_members(condition.segment).filter(
        pk__in=[b.pk for b in population.values()]
    ))

    expected = {
        buyer for name, buyer in population.items()
        if oracle(field, value, HISTORIES[name]) != (operator == "is_not")
    }
    assert members == expected


def test_the_resolver_agrees_and_conditions_combine(buyers):
    segment = SegmentFactory(code="recent-catheter-buyers", kind=SegmentKind.RULE)
    SegmentConditionFactory(segment=segment, field="bought_category_days", value="urology 60")
    SegmentConditionFactory(segment=segment, field="orders_12m_at_least", value="3")
    consumers = SegmentFactory(code="lapsed-consumers", kind=SegmentKind.RULE,
                               audience="consumers")
    SegmentConditionFactory(segment=consumers, field="last_order_over_days", value="90")

    def segments_of(user):
        return resolve(user).segments

    organisations = buyers["organisations"]
    assert {n for n, o in organisations.items()
            if "recent-catheter-buyers" in segments_of(o.memberships.get().user)} == {"A", "F"}
    assert {n for n, u in buyers["consumers"].items()
            if "lapsed-consumers" in segments_of(u)} == {"B", "C", "D", "E"}


def test_a_guest_has_never_ordered(buyers):
    for code, field, value in (
        ("never", "never_ordered", "true"), ("lapsed", "last_order_over_days", "30"),
        ("small", "revenue_12m_band", "0-100"), ("no-urology", "not_bought_category", "urology"),
        ("regulars", "orders_12m_at_least", "1"), ("big", "revenue_12m_band", "100-"),
        ("catheters", "bought_category_days", "catheters 30"),
    ):
        SegmentConditionFactory(segment__code=code, segment__audience="consumers",
                                field=field, value=value)

    assert resolve(AnonymousUser()).segments == {"never", "lapsed", "small", "no-urology"}


def _resolve_queries(user) -> int:
    with CaptureQueriesContext(connection) as queries:
        resolve(user)
    return len(queries)


def test_behaviour_segments_are_evaluated_in_one_query(buyers):
    """The resolver's query count does not grow with the number of behaviour segments."""
    buyer = buyers["organisations"]["A"].memberships.get().user
    consumer = buyers["consumers"]["A"]
    for n, (field, value) in enumerate(CONDITIONS[:2]):
        SegmentConditionFactory(segment__code=f"few-{n}", field=field, value=value)
        SegmentConditionFactory(segment__code=f"few-c{n}", segment__audience="consumers",
                                field=field, value=value)
    few = (_resolve_queries(buyer), _resolve_queries(consumer))
    for n, (field, value) in enumerate(CONDITIONS):
        value = _value(value, buyers["categories"])
        SegmentConditionFactory(segment__code=f"many-{n}", field=field, value=value)
        SegmentConditionFactory(segment__code=f"many-c{n}", segment__audience="consumers",
                                field=field, value=value)

    assert (_resolve_queries(buyer), _resolve_queries(consumer)) == few


def test_explain_shows_the_fact_behind_each_behaviour_condition(buyers):
    for code, field, value in (
        ("lapsed", "last_order_over_days", "30"), ("band", "revenue_12m_band", "1000-5000"),
        ("regulars", "orders_12m_at_least", "3"), ("catheters", "bought_category_days",
                                                    "urology 30"),
        ("no-dressings", "not_bought_category", "dressings"),
    ):
        SegmentConditionFactory(segment__code=code, field=field, value=value)
    buyer = resolve(buyers["organisations"]["A"].memberships.get().user)
    never = resolve(buyers["organisations"]["D"].memberships.get().user)

    facts = {e.code: e.conditions[0].fact for e in segment_explanations(buyer=buyer)}
    day = f"{timezone.localtime(_ago(10)):%Y-%m-%d}"
    assert facts["lapsed"].startswith(f"last order {day}, 10 days ago, 8 orders since")
    assert facts["band"].startswith("£6,000.00 net in the trailing 12 months (facts of ")
    assert facts["regulars"].startswith("6 orders in the trailing 12 months")
    assert facts["catheters"].startswith(f"last bought in Urology or below {day}, 10 days ago")
    assert facts["no-dressings"].startswith("last bought in Dressings or below")
    assert {e.conditions[0].fact for e in segment_explanations(buyer=never)} == {
        "no purchase-history facts yet: taken as never ordered"
    }


BAD_VALUES = [
    ("last_order_over_days", "is", "0", "value"),
    ("last_order_over_days", "is", "-5", "value"),
    ("last_order_over_days", "is", "ten", "value"),
    ("orders_12m_at_most", "is", "2.5", "value"),
    ("never_ordered", "is", "yes", "value"),
    ("revenue_12m_band", "is", "5000-1000", "value"),
    ("revenue_12m_band", "is", "1000", "value"),
    ("revenue_12m_band", "is", "-1000", "value"),
    ("revenue_12m_band", "is", "1,000-5,000", "value"),
    ("bought_category_days", "is", "urology", "value"),
    ("bought_category_days", "is", "urology 0", "value"),
    ("bought_category_days", "is", "no-such-category 30", "value"),
    ("not_bought_category", "is", "no-such-category", "value"),
    ("not_bought_category", "is", "urology dressings", "value"),
    ("not_bought_category", "in", "urology", "operator"),
    ("favourite_colour", "is", "blue", "field"),
]


@pytest.mark.parametrize(("field", "operator", "value", "at"), BAD_VALUES)
def test_bad_behaviour_input_is_refused_at_its_field(categories, field, operator, value, at):
    condition = SegmentConditionFactory.build(
        segment=SegmentFactory(kind=SegmentKind.RULE), field=field, operator=operator,
        value=value,
    )

    with pytest.raises(ValidationError) as refused:
        condition.full_clean()

    assert at in refused.value.message_dict


def test_the_admin_refuses_a_bad_condition_at_its_field_and_saves_nothing(client, categories):
    client.force_login(UserFactory(email="admin@demo.test", is_staff=True, is_superuser=True))
    segment = SegmentFactory(code="lapsing", name="Lapsing", kind=SegmentKind.RULE)
    url = reverse("admin:segments_segment_change", args=[segment.pk])
    data = post_data(client.get(url))
    data.update({
        "name": "Renamed", "conditions-TOTAL_FORMS": "2",
        "conditions-0-field": "orders_12m_at_least", "conditions-0-operator": "is",
        "conditions-0-value": "3",
        "conditions-1-field": "bought_category_days", "conditions-1-operator": "is",
        "conditions-1-value": "no-such-category 30",
    })

    response = client.post(url, data)

    assert response.status_code == 200
    forms = response.context["inline_admin_formsets"][0].formset.forms
    assert forms[0].errors == {}
    assert "There is no category" in forms[1].errors["value"][0]
    segment.refresh_from_db()
    assert segment.name == "Lapsing"
    assert not SegmentCondition.objects.exists()
