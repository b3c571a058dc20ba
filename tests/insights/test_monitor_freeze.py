"""Freezing a pricing monitor's groups: the treated group is the segment as it stood at the start,
the control group shares the treated group's strata and was not reached by the price list, and
its weights give it the treated group's mix."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import OrganisationKind, SizeBand
from insights.models import MonitorAccount, MonitorGroup, PricingMonitor
from insights.services.monitors import CONTROL_PER_TREATED, monitor_create
from segments.models import Audience, MovementDirection, SegmentKind
from tests.factories import (
    SegmentConditionFactory,
    SegmentFactory,
    SegmentMembershipFactory,
    UserFactory,
)
from tests.factories.insights_monitor import (
    computed_segment,
    entered,
    moved,
    organisations,
    promotion,
)

pytestmark = pytest.mark.django_db

START = datetime.date(2026, 3, 1)
BEFORE = START - datetime.timedelta(days=30)
AFTER = START + datetime.timedelta(days=10)


def _create(segment, price_list=None, **fields):
    monitor = PricingMonitor(name="Spring promotion", segment=segment, price_list=price_list,
                             change="" if price_list else "New price list",
                             starts_on=START, weeks_before=8, **fields)
    return monitor_create(monitor=monitor)


def _groups(monitor) -> dict[str, set]:
    groups = {MonitorGroup.TREATED: set(), MonitorGroup.CONTROL: set()}
    for account in MonitorAccount.objects.filter(monitor=monitor).select_related("organisation",
                                                                                   "user"):
        groups[account.group].add(str(account.buyer))
    return groups


def test_the_treated_group_is_the_computed_segment_as_it_stood_at_the_start():
    segment = computed_segment()
    stayed, joined_late, left_late, left_early, outsider = organisations(5, prefix="Clinic")
    moved(segment, stayed, MovementDirection.ENTERED, BEFORE)
    moved(segment, joined_late, MovementDirection.ENTERED, AFTER)
    moved(segment, left_late, MovementDirection.ENTERED, BEFORE)
    moved(segment, left_late, MovementDirection.EXITED, AFTER)
    moved(segment, left_early, MovementDirection.ENTERED, BEFORE - datetime.timedelta(days=5))
    moved(segment, left_early, MovementDirection.EXITED, BEFORE)

    monitor = _create(segment)

    groups = _groups(monitor)
    assert groups[MonitorGroup.TREATED] == {"Clinic 0", "Clinic 2"}
    assert groups[MonitorGroup.CONTROL] == {"Clinic 1", "Clinic 3", "Clinic 4"}
    assert monitor.frozen_at is not None


def test_a_buyer_who_entered_on_the_start_day_itself_is_not_treated():
    segment = computed_segment()
    (same_day,) = organisations(1, prefix="Clinic")
    moved(segment, same_day, MovementDirection.ENTERED, START)

    monitor = _create(segment)

    assert _groups(monitor)[MonitorGroup.TREATED] == set()


def test_the_control_group_shares_the_treated_strata_and_was_not_reached_by_the_price_list():
    segment = computed_segment()
    treated = organisations(2, prefix="Treated clinic")
    entered(segment, treated, BEFORE)
    (plain,) = organisations(1, prefix="Plain clinic")
    organisations(1, prefix="Big trust", kind=OrganisationKind.NHS_TRUST,
                  size_band=SizeBand.LARGE)
    (assigned,) = organisations(1, prefix="Assigned clinic")
    (group,) = organisations(1, prefix="Clinic group", kind=OrganisationKind.CLINIC_GROUP)
    organisations(1, prefix="Child clinic", parent=group)
    (framework_member,) = organisations(1, prefix="Framework clinic")
    framework = SegmentFactory(name="Framework")
    SegmentMembershipFactory(segment=framework, organisation=framework_member)
    organisations(1, prefix="Inactive clinic", is_active=False)
    spring = promotion(valid_from=START)
    spring.organisations.set([assigned, group])
    spring.segments.set([framework])

    monitor = _create(segment, price_list=spring)

    assert _groups(monitor) == {
        MonitorGroup.TREATED: {"Treated clinic 0", "Treated clinic 1"},
        MonitorGroup.CONTROL: {"Plain clinic 0"},
    }


def test_control_weights_give_each_stratum_the_treated_share():
    segment = computed_segment()
    small = organisations(2, prefix="Small treated")
    medium = organisations(2, prefix="Medium treated", size_band=SizeBand.MEDIUM)
    entered(segment, small + medium, BEFORE)
    organisations(1, prefix="Small control")
    organisations(3, prefix="Medium control", size_band=SizeBand.MEDIUM)

    monitor = _create(segment)

    weights = dict(MonitorAccount.objects.filter(monitor=monitor, group=MonitorGroup.CONTROL)
                   .values_list("stratum", "weight").distinct())
    assert weights == {
        "private_clinic/small": pytest.approx(2.0),
        "private_clinic/medium": pytest.approx(2 / 3),
    }
    assert sum(MonitorAccount.objects.filter(monitor=monitor, group=MonitorGroup.CONTROL)
               .values_list("weight", flat=True)) == pytest.approx(4.0)


def test_a_stratum_without_control_is_kept_listed_but_left_out_of_the_comparison():
    segment = computed_segment()
    clinics = organisations(2, prefix="Clinic")
    (home,) = organisations(1, prefix="Care home", kind=OrganisationKind.CARE_HOME)
    entered(segment, [*clinics, home], BEFORE)
    organisations(2, prefix="Control clinic")

    monitor = _create(segment)

    treated = dict(MonitorAccount.objects.filter(monitor=monitor, group=MonitorGroup.TREATED)
                   .values_list("organisation__name", "weight"))
    assert treated == {"Clinic 0": 1.0, "Clinic 1": 1.0, "Care home 0": 0.0}


def test_a_large_stratum_is_sampled_to_a_fixed_multiple_of_its_treated_accounts():
    segment = computed_segment()
    entered(segment, organisations(2, prefix="Treated"), BEFORE)
    organisations(3 * CONTROL_PER_TREATED * 2, prefix="Control")

    monitor = _create(segment)

    control = MonitorAccount.objects.filter(monitor=monitor, group=MonitorGroup.CONTROL)
    assert control.count() == CONTROL_PER_TREATED * 2
    assert {round(w, 6) for w in control.values_list("weight", flat=True)} == {1.0}


def test_static_and_rule_segments_take_their_members_as_they_stand():
    static = SegmentFactory(name="Framework", kind=SegmentKind.STATIC)
    member, _ = organisations(2, prefix="Clinic")
    SegmentMembershipFactory(segment=static, organisation=member)
    rule = SegmentConditionFactory(value="care_home").segment
    (home,) = organisations(1, prefix="Care home", kind=OrganisationKind.CARE_HOME)

    by_static = _create(static)
    by_rule = _create(rule)

    assert _groups(by_static)[MonitorGroup.TREATED] == {"Clinic 0"}
    assert _groups(by_static)[MonitorGroup.CONTROL] == {"Clinic 1"}
    assert _groups(by_rule)[MonitorGroup.TREATED] == {"Care home 0"}


def test_a_consumer_segment_freezes_retail_consumers_in_one_stratum():
    segment = SegmentFactory(name="Loyal shoppers", audience=Audience.CONSUMERS)
    loyal = UserFactory(email="loyal@demo.test")
    UserFactory(email="other@demo.test")
    SegmentMembershipFactory(segment=segment, user=loyal, organisation=None)

    monitor = _create(segment)

    rows = set(MonitorAccount.objects.filter(monitor=monitor)
               .values_list("user__email", "group", "stratum"))
    assert ("loyal@demo.test", "treated", "consumers") in rows
    assert ("other@demo.test", "control", "consumers") in rows


@pytest.mark.parametrize("size", [3, 12])
def test_freezing_takes_the_same_number_of_queries_for_any_group_size(
    size, django_assert_num_queries
):
    segment = computed_segment()
    entered(segment, organisations(size, prefix="Treated"), BEFORE)
    organisations(size * 2, prefix="Control")
    spring = promotion(valid_from=START)
    spring.segments.set([SegmentFactory(name="Framework")])
    monitor = PricingMonitor(name="Spring", segment=segment, price_list=spring,
                             starts_on=START, weeks_before=8)

    with django_assert_num_queries(13):
        monitor_create(monitor=monitor)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"starts_on": timezone.localdate() + datetime.timedelta(days=1)}, "starts_on",
         "choose a start up to today"),
        ({"weeks_before": 3}, "weeks_before", "Compare between 4 and 104 weeks"),
        ({"ends_on": START}, "ends_on", "A monitor ends after it starts."),
        ({"change": ""}, "change", "Choose the price list or promotion"),
    ],
)
def test_a_monitor_that_cannot_be_read_is_refused_with_a_field_error(fields, field, message):
    segment = computed_segment()
    values = {"name": "Spring", "segment": segment, "change": "New prices", "starts_on": START,
              "weeks_before": 8, **fields}

    with pytest.raises(ValidationError) as refused:
        monitor_create(monitor=PricingMonitor(**values))

    assert message in " ".join(refused.value.message_dict[field])
    assert not PricingMonitor.objects.exists()
