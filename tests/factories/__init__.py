from .accounts import (
    BudgetFactory,
    CostCentreFactory,
    MembershipFactory,
    OrganisationFactory,
    SiteFactory,
    UserFactory,
)
from .segments import SegmentConditionFactory, SegmentFactory, SegmentMembershipFactory
from .territories import PostcodeAreaFactory, TerritoryFactory

__all__ = [
    "BudgetFactory",
    "CostCentreFactory",
    "MembershipFactory",
    "OrganisationFactory",
    "PostcodeAreaFactory",
    "SegmentConditionFactory",
    "SegmentFactory",
    "SegmentMembershipFactory",
    "SiteFactory",
    "TerritoryFactory",
    "UserFactory",
]
