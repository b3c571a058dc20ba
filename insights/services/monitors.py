"""Creating a pricing monitor: validate it, and freeze its treated and control groups.

Treated: the segment's members at the start (see `insights.selectors.monitors.members_at`).
Control: buyers of the same audience who were not in the segment at the start and whom the price
list does not reach (by organisation or an ancestor, by one of its segments at the start, or by
territory); for organisations only those of the treated group's (kind, size band) strata. A
stratum with more eligible buyers than `CONTROL_PER_TREATED` times its treated accounts keeps a
random sample of that size (seeded by the monitor), so a large book does not slow the page.

Weights: a control account in stratum s weighs (treated share of s) / (control share of s), so
the control group has the treated group's mix; the weights average 1. A treated account in a
stratum with no control account gets weight 0: it stays listed but is left out of the comparison.
"""

import random
from collections import Counter, defaultdict

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from segments.models import Audience

from ..models import MonitorAccount, MonitorGroup, PricingMonitor
from ..selectors.monitors import (
    audience_buyers,
    buyer_field,
    members_at,
    reached_by_price_list,
)

CONTROL_PER_TREATED = 5
CONSUMER_STRATUM = "consumers"
_BATCH = 1000


def monitor_create(*, monitor: PricingMonitor, created_by=None) -> PricingMonitor:
    """Save a new monitor and freeze its groups, in one transaction."""
    with transaction.atomic():
        monitor.created_by = created_by
        monitor.full_clean()
        monitor.save()
        _freeze(monitor)
        monitor.frozen_at = timezone.now()
        monitor.save(update_fields=["frozen_at"])
    return monitor


def stratum_of(kind: str, size_band: str) -> str:
    return f"{kind}/{size_band}"


def _buyers_with_strata(queryset, audience: str) -> list[tuple[int, str]]:
    if audience != Audience.ORGANISATIONS:
        return [(pk, CONSUMER_STRATUM) for pk in queryset.values_list("pk", flat=True)]
    rows = queryset.order_by("pk").values_list("pk", "kind", "size_band")
    return [(pk, stratum_of(kind, size)) for pk, kind, size in rows]


def _control_pool(monitor, treated_query, strata) -> list[tuple[int, str]]:
    """Eligible control buyers, with their strata, in one query."""
    audience = monitor.segment.audience
    pool = audience_buyers(audience).exclude(pk__in=treated_query.values("pk"))
    if monitor.price_list_id:
        pool = pool.exclude(reached_by_price_list(monitor.price_list, audience, monitor.starts_on))
    if audience == Audience.ORGANISATIONS:
        same = Q(pk__in=[])
        for stratum in strata:
            kind, size = stratum.split("/", 1)
            same |= Q(kind=kind, size_band=size)
        pool = pool.filter(same)
    return _buyers_with_strata(pool, audience)


def _sampled(pool, treated_counts: Counter, seed: int) -> dict[str, list[int]]:
    """The control buyers kept per stratum: all of them, or a seeded sample of at most
    CONTROL_PER_TREATED per treated account."""
    by_stratum = defaultdict(list)
    for pk, stratum in pool:
        by_stratum[stratum].append(pk)
    chooser = random.Random(seed)  # noqa: S311 - a reproducible sample, not a secret
    kept = {}
    for stratum, ids in by_stratum.items():
        cap = CONTROL_PER_TREATED * treated_counts[stratum]
        kept[stratum] = sorted(chooser.sample(ids, cap)) if len(ids) > cap else ids
    return kept


def _weights(treated_counts: Counter, control: dict[str, list[int]]) -> dict[str, float]:
    """Each kept stratum's control weight: treated share over control share."""
    kept = [s for s in treated_counts if control.get(s)]
    treated_total = sum(treated_counts[s] for s in kept)
    control_total = sum(len(control[s]) for s in kept)
    return {
        s: (treated_counts[s] / treated_total) / (len(control[s]) / control_total) for s in kept
    }


def _freeze(monitor: PricingMonitor) -> None:
    audience = monitor.segment.audience
    field = buyer_field(audience).removesuffix("_id")
    treated_query = members_at(monitor.segment, monitor.starts_on)
    treated = _buyers_with_strata(treated_query, audience)
    treated_counts = Counter(stratum for _, stratum in treated)
    control = _sampled(_control_pool(monitor, treated_query, treated_counts), treated_counts,
                       monitor.pk)
    weights = _weights(treated_counts, control)
    rows = [
        MonitorAccount(monitor=monitor, group=MonitorGroup.TREATED, stratum=stratum,
                       weight=1.0 if stratum in weights else 0.0, **{f"{field}_id": pk})
        for pk, stratum in treated
    ]
    rows += [
        MonitorAccount(monitor=monitor, group=MonitorGroup.CONTROL, stratum=stratum,
                       weight=weights[stratum], **{f"{field}_id": pk})
        for stratum in weights for pk in control[stratum]
    ]
    MonitorAccount.objects.bulk_create(rows, batch_size=_BATCH)
