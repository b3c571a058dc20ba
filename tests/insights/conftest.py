import datetime

import pytest
from django.utils import timezone

from accounts.models import OrganisationKind, SizeBand
from insights.models import PricingMonitor
from insights.services.monitors import monitor_create
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.insights_monitor import computed_segment, entered, organisations, weekly_sales
from tests.ordering.conftest import build_world as build_ordering_world

from .world import World, build_world


@pytest.fixture
def superuser(db):
    return UserFactory(email="admin@demo.test", is_staff=True, is_superuser=True)


@pytest.fixture
def manager(db):
    return UserFactory(email="manager@demo.test", full_name="Priya Shah", is_staff=True)


def build_monitor(*, weeks_before=8, weeks_after=8, treated=40, control=40, effect=0.0,
                  seed=0, manager=None, managed=0):
    """An "At risk" monitor started `weeks_after` whole weeks ago, with weekly sales for every
    account from `weeks_before` weeks before the start: treated accounts' revenue times
    (1 + effect) from the start. The first `managed` treated and control accounts belong to
    `manager`'s book."""
    today = timezone.localdate()
    start = today - datetime.timedelta(weeks=weeks_after)
    first_day = start - datetime.timedelta(weeks=weeks_before)
    segment = computed_segment()
    book = [
        OrganisationFactory(name=f"Book clinic {n}", kind=OrganisationKind.PRIVATE_CLINIC,
                            size_band=SizeBand.SMALL, account_manager=manager)
        for n in range(2 * managed)
    ]
    treated_orgs = book[:managed] + organisations(treated - managed, prefix="Treated clinic")
    control_orgs = book[managed:] + organisations(control - managed, prefix="Control clinic")
    entered(segment, treated_orgs, first_day - datetime.timedelta(days=30))
    monitor = monitor_create(monitor=PricingMonitor(
        name="Spring promotion for At risk", segment=segment, change="Spring promotion",
        starts_on=start, weeks_before=weeks_before,
    ))
    level = {i: 400 + 20 * (i % 10) for i in range(max(treated, control))}
    weekly_sales(treated_orgs, first_day=first_day, weeks=weeks_before + weeks_after, seed=seed,
                 revenue=lambda i, w: level[i] * (1 + effect if w >= weeks_before else 1))
    weekly_sales(control_orgs, first_day=first_day, weeks=weeks_before + weeks_after,
                 seed=seed + 1, revenue=lambda i, w: level[i])
    return monitor


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def ordering_world(db):
    """The ordering suite's world: a trust with wards, a distributor, a patient, list and retail
    prices."""
    return build_ordering_world()
