"""The service tier contracts promise, kept on each organisation they apply to (the organisation
and its children), so the service level is read from the organisation alone."""

import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import SERVICE_TIER_RANK, Organisation
from segments.versioning import bump_rules_version

from ..models import Contract, ContractStatus


def _promised_tiers(today: datetime.date) -> dict[int, tuple[str, str]]:
    """The best tier each contract-holding organisation's contracts promise today."""
    best: dict[int, tuple[str, str]] = {}
    contracts = (
        Contract.objects.filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=today),
            status=ContractStatus.ACTIVE, valid_from__lte=today,
        )
        .exclude(service_tier="")
        .order_by("reference", "lot", "pk")
        .values_list("organisation_id", "service_tier", "reference")
    )
    for organisation_id, tier, reference in contracts:
        held = best.get(organisation_id)
        if held is None or SERVICE_TIER_RANK[tier] < SERVICE_TIER_RANK[held[0]]:
            best[organisation_id] = (tier, reference)
    return best


def _inherited(organisation_id, parents, promised) -> tuple[str, str]:
    """The best promise of the organisation's own contracts and its ancestors' (as pricing
    applies a parent's contract to its children)."""
    found, node, seen = ("", ""), organisation_id, set()
    while node is not None and node not in seen:
        seen.add(node)
        own = promised.get(node)
        if own and (not found[0] or SERVICE_TIER_RANK[own[0]] < SERVICE_TIER_RANK[found[0]]):
            found = own
        node = parents.get(node)
    return found


@transaction.atomic
def contract_service_tiers_sync(*, today: datetime.date | None = None) -> int:
    """Write on every organisation the best service tier its applying contracts promise today;
    returns how many organisations changed. Runs when a contract is saved and each morning."""
    promised = _promised_tiers(today or timezone.localdate())
    rows = Organisation.objects.values_list(
        "pk", "parent_id", "contract_service_tier", "contract_service_reference"
    )
    parents, stored = {}, {}
    for pk, parent_id, tier, reference in rows:
        parents[pk], stored[pk] = parent_id, (tier, reference)
    changed = [pk for pk in parents if _inherited(pk, parents, promised) != stored[pk]]
    for pk in changed:
        tier, reference = _inherited(pk, parents, promised)
        Organisation.objects.filter(pk=pk).update(
            contract_service_tier=tier, contract_service_reference=reference
        )
    if changed:
        bump_rules_version()
        transaction.on_commit(bump_rules_version)
    return len(changed)
