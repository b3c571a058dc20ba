"""Rule segments evaluated in SQL agree with an oracle written from the rules: a buyer belongs to a
rule segment exactly when every condition holds for its organisation's attributes."""

import pytest
from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from segments.resolver import resolve
from segments.rules import rule_segment_members
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    PostcodeAreaFactory,
    SegmentConditionFactory,
    SegmentFactory,
    TerritoryFactory,
)

pytestmark = pytest.mark.django_db

KINDS = ["nhs_trust", "private_clinic", "distributor", "gp_practice"]
TIERS = ["A", "B", "C"]
SIZES = ["small", "large", ""]
POSTCODES = {"SE": "SE1 7EH", "LS": "LS1 3EX", "PL": "PL1 2AA", "M": "M1 1AE"}
TERRITORIES = {"t-south": {"SE", "PL"}, "t-north": {"LS", "M"}, "t-coast": {"PL", "M"}}

organisations = st.lists(
    st.fixed_dictionaries(
        {
            "kind": st.sampled_from(KINDS),
            "customer_tier": st.sampled_from(TIERS),
            "size_band": st.sampled_from(SIZES),
            "area": st.sampled_from(sorted(POSTCODES)),
            "parent": st.integers(min_value=-1, max_value=3),
            "professional": st.booleans(),
        }
    ),
    min_size=1,
    max_size=5,
)


def _values_for(field):
    return {
        "kind": st.sampled_from(KINDS),
        "customer_tier": st.sampled_from(TIERS),
        "size_band": st.sampled_from(["small", "large"]),
        "region": st.sampled_from(sorted(TERRITORIES)),
        "postcode_area": st.sampled_from(sorted(POSTCODES)),
        "professional": st.sampled_from(["true", "false"]),
    }[field]


@st.composite
def conditions(draw):
    field = draw(
        st.sampled_from(
            [
                "kind",
                "customer_tier",
                "size_band",
                "region",
                "postcode_area",
                "professional",
                "parent",
            ]
        )
    )
    operator = draw(st.sampled_from(["is", "is_not", "in"]))
    if field == "parent":
        return field, operator, [draw(st.integers(min_value=0, max_value=3))]
    if field == "professional":
        operator = draw(st.sampled_from(["is", "is_not"]))
    count = 2 if operator == "in" else 1
    values = draw(st.lists(_values_for(field), min_size=count, max_size=count, unique=True))
    return field, operator, values


segments = st.lists(st.lists(conditions(), min_size=0, max_size=3), min_size=1, max_size=4)


def oracle(org, ancestors, condition_list):
    facts = {
        "kind": org["kind"],
        "customer_tier": org["customer_tier"],
        "size_band": org["size_band"],
        "postcode_area": org["area"],
        "professional": "true" if org["professional"] else "false",
    }
    for field, operator, values in condition_list:
        if field == "region":
            holds = any(org["area"] in TERRITORIES[v] for v in values)
        elif field == "parent":
            holds = any(v in ancestors for v in values)
        else:
            holds = facts[field] in values
        if operator == "is_not":
            holds = not holds
        if not holds:
            return False
    return True


class _Rollback(Exception):
    pass


@settings(max_examples=25, deadline=None)
@given(orgs=organisations, segment_defs=segments)
def test_rule_segment_membership_matches_the_oracle(orgs, segment_defs):
    try:
        with transaction.atomic():
            _check(orgs, segment_defs)
            raise _Rollback
    except _Rollback:
        pass


def _check(orgs, segment_defs):
    from tests.guarantees.faults_support import forget_cache

    forget_cache()
    for code, areas in TERRITORIES.items():
        territory = TerritoryFactory(code=code, name=code)
        territory.areas.set([PostcodeAreaFactory(code=a, name=a) for a in areas])
    parents = [
        OrganisationFactory(name=f"Parent {i}", kind="ics", postcode="SE1 7EH") for i in range(4)
    ]
    created = []
    for i, org in enumerate(orgs):
        parent = parents[org["parent"]] if org["parent"] >= 0 else None
        created.append(
            OrganisationFactory(
                name=f"Org {i}",
                kind=org["kind"],
                customer_tier=org["customer_tier"],
                size_band=org["size_band"],
                postcode=POSTCODES[org["area"]],
                parent=parent,
                professional_status="verified" if org["professional"] else "unverified",
            )
        )
    for s, condition_list in enumerate(segment_defs):
        segment = SegmentFactory(code=f"rule-{s}", kind="rule")
        for field, operator, values in condition_list:
            if field == "parent":
                values = [str(parents[v].pk) for v in values]
            SegmentConditionFactory(
                segment=segment, field=field, operator=operator, value=",".join(values)
            )

    for org, row in zip(orgs, created, strict=True):
        ancestors = {org["parent"]} if org["parent"] >= 0 else set()
        expected = {
            f"rule-{s}"
            for s, condition_list in enumerate(segment_defs)
            if oracle(org, ancestors, condition_list)
        }
        buyer = resolve(MembershipFactory(organisation=row).user)
        assert buyer.segments == expected
        for s in range(len(segment_defs)):
            from segments.models import Segment

            members = rule_segment_members(Segment.objects.get(code=f"rule-{s}"))
            assert members.filter(pk=row.pk).exists() == (f"rule-{s}" in expected)
