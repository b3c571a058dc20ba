"""Builders for service levels and account coverage: a contract that promises a tier, and rep
assignments by segment or territory."""

import datetime

from django.utils import timezone

from pricing.models import Contract, ContractStatus, PriceList, PriceListKind
from pricing.services import contract_save
from segments.coverage import rep_assignment_save
from segments.models import RepAssignment

from .accounts import UserFactory


def contract_promising(organisation, tier: str, *, reference: str = "NHS-2024-118",
                       status: str = ContractStatus.ACTIVE) -> Contract:
    """An active contract of `organisation` that promises `tier`, saved through the service."""
    price_list, _ = PriceList.objects.get_or_create(
        code=f"contract-{reference.lower()}",
        defaults={"name": f"Contract {reference}", "kind": PriceListKind.CONTRACT},
    )
    contract = Contract(
        organisation=organisation, reference=reference, status=status, price_list=price_list,
        valid_from=timezone.localdate() - datetime.timedelta(days=30), service_tier=tier,
    )
    return contract_save(contract=contract)


def account_manager(email: str, name: str = "") -> object:
    return UserFactory(email=email, full_name=name or email.split("@")[0].title(), is_staff=True,
                       direct_phone="020 7946 0100")


def assign_rep(user, *, segment=None, territory=None) -> RepAssignment:
    return rep_assignment_save(
        assignment=RepAssignment(account_manager=user, segment=segment, territory=territory)
    )
