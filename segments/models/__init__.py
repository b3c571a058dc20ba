"""Segments: named groups of buyers, and the behavioural facts and analyses that fill the
computed ones."""

from .analysis import (
    BuyerCategoryFacts,
    BuyerFacts,
    Cluster,
    ComputedMembership,
    MovementDirection,
    PropensityModel,
    PropensityScore,
    RfmGroup,
    RunStatus,
    SegmentMovement,
    SegmentRun,
    ValueTier,
)
from .definitions import (
    BEHAVIOUR_FIELDS,
    CATEGORY_FIELDS,
    CONSUMER_FIELDS,
    Audience,
    ComputedBasis,
    ConditionField,
    Operator,
    Segment,
    SegmentCondition,
    SegmentKind,
    SegmentMembership,
    category_lookup,
    parse_behaviour_value,
    propensity_basis,
    refuse_computed,
)
from .reps import AccountCoverage, CoverageSource, RepAssignment

__all__ = [
    "AccountCoverage", "CoverageSource", "RepAssignment",
    "BEHAVIOUR_FIELDS", "CATEGORY_FIELDS", "CONSUMER_FIELDS", "Audience", "ComputedBasis",
    "BuyerCategoryFacts", "BuyerFacts", "Cluster", "ComputedMembership", "ConditionField",
    "MovementDirection", "Operator", "PropensityModel", "PropensityScore", "RfmGroup", "RunStatus",
    "Segment", "SegmentCondition", "SegmentKind", "SegmentMembership", "SegmentMovement",
    "SegmentRun", "ValueTier", "category_lookup", "parse_behaviour_value", "propensity_basis",
    "refuse_computed",
]
