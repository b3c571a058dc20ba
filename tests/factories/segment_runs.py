"""Builders for the computed segments: behavioural facts written straight into BuyerFacts (the
analysis that fills them is tested on its own), computed segments, clusters and propensities."""
import datetime
from decimal import Decimal

from django.utils import timezone

from segments.models import (
    Audience,
    BuyerFacts,
    Cluster,
    PropensityModel,
    PropensityScore,
    Segment,
    SegmentKind,
)


def buyer_facts(*, organisation=None, user=None, days_since_last_order=None, **fields):
    """One buyer's facts row; `days_since_last_order` sets last_order_at that many days ago."""
    now = fields.pop("now", None) or timezone.now()
    if days_since_last_order is not None:
        fields["last_order_at"] = now - datetime.timedelta(days=days_since_last_order)
    for money in ("revenue_12m", "margin_12m"):
        if isinstance(fields.get(money), str):
            fields[money] = Decimal(fields[money])
    facts = BuyerFacts(organisation=organisation, user=user, computed_at=now, **fields)
    facts.full_clean()
    facts.save()
    return facts


def computed_segment(code: str, basis: str, basis_value: str = "", *,
                     audience: str = Audience.ORGANISATIONS, **extra) -> Segment:
    segment = Segment(code=code, name=extra.pop("name", code.replace("-", " ").capitalize()),
                      kind=SegmentKind.COMPUTED, audience=audience, basis=basis,
                      basis_value=basis_value, **extra)
    segment.full_clean()
    segment.save()
    return segment


def cluster(number: int, name: str, *, audience: str = Audience.ORGANISATIONS, **extra) -> Cluster:
    return Cluster.objects.create(audience=audience, number=number, generated_name=name,
                                  computed_at=timezone.now(), **extra)


def propensity_model(*, audience: str = Audience.ORGANISATIONS, used: bool = True,
                     days_ago: int = 0) -> PropensityModel:
    trained = timezone.now() - datetime.timedelta(days=days_ago)
    return PropensityModel.objects.create(
        audience=audience, algorithm="logistic regression", trained_at=trained,
        cutoff=trained.date() - datetime.timedelta(days=30), used=used, auc=0.78,
        baseline_auc=0.64,
    )


def propensity(model, category, probability: float, *, organisation=None, user=None):
    return PropensityScore.objects.create(model=model, category=category, organisation=organisation,
                                          user=user, probability=probability)
