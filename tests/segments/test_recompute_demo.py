"""A real recompute over the demo's 18 months of history: full, then incremental after the world
changed, with the incremental memberships exactly those a full evaluation gives."""

import pytest
from django.db.models import Count
from django.utils import timezone

from ordering.models import Order, OrderState
from segments.analysis import COUNTED_STATES
from segments.analysis.memberships import sync_computed_memberships
from segments.models import (
    Audience,
    BuyerFacts,
    ComputedBasis,
    ComputedMembership,
    RunStatus,
    Segment,
    SegmentKind,
    SegmentMovement,
)
from segments.services import recompute_segments

pytestmark = pytest.mark.django_db


def _members() -> dict[str, set]:
    found: dict[str, set] = {}
    for code, o, u in ComputedMembership.objects.values_list(
        "segment__code", "organisation_id", "user_id"
    ):
        found.setdefault(code, set()).add((o, u))
    return found


def test_the_demo_history_fills_every_computed_segment_phase_by_phase(demo_world):
    run = recompute_segments(full=True)

    assert run.status == RunStatus.DONE, run.error
    assert list(run.timings) == ["facts", "scores", "clusters", "propensity", "memberships",
                                 "affinities", "aggregates"]
    groups = set(BuyerFacts.objects.values_list("rfm_group", flat=True))
    assert {"champions", "loyal", "at_risk", "hibernating", "prospects", "new"} <= groups
    filled = dict(Segment.objects.filter(kind=SegmentKind.COMPUTED)
                  .annotate(n=Count("computed_members")).values_list("code", "n"))
    assert filled["rfm-champions"] > 0 and filled["lapsed-organisations"] > 0
    assert filled["consumer-champions"] > 0 and filled["value-concierge"] > 0
    assert SegmentMovement.objects.filter(run=run).count() == sum(filled.values())


def test_an_incremental_run_gives_the_memberships_a_full_evaluation_gives(demo_world):
    assert recompute_segments(full=True).status == RunStatus.DONE
    champion = ComputedMembership.objects.filter(
        segment__code="rfm-champions").values_list("organisation_id", flat=True).first()
    # The world changes: a champion's recent orders are cancelled, and staff add a segment.
    recent = Order.objects.filter(organisation_id=champion, state__in=COUNTED_STATES,
                                  placed_at__gte=timezone.now() - timezone.timedelta(days=200))
    recent.update(state=OrderState.CANCELLED, updated_at=timezone.now())
    added = Segment(code="rfm-loyal", name="Loyal", kind=SegmentKind.COMPUTED,
                    audience=Audience.ORGANISATIONS, basis=ComputedBasis.RFM_GROUP,
                    basis_value="loyal")
    added.full_clean()
    added.save()

    run = recompute_segments(full=False)
    incremental = _members()
    again = sync_computed_memberships(touched=None)

    assert run.status == RunStatus.DONE, run.error
    assert "clusters" not in run.timings and "propensity" not in run.timings
    assert champion not in {o for o, _u in incremental["rfm-champions"]}
    assert incremental.get("rfm-loyal")  # a new segment is filled for every buyer at once
    assert (again.entered, again.exited) == (0, 0)
    assert _members() == incremental
