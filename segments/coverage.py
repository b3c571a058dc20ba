"""Account coverage: which account manager a customer group (a segment, a territory) gives each
organisation, and keeping the admin object permissions with the effective account manager.

Precedence: the organisation's own account manager (accounts) beats a segment assignment, which
beats a territory assignment; among several assigned segments (or territories) of one
organisation, the oldest assignment wins. A territory covers an organisation by its registered
postcode area.
"""

from django.db import transaction
from guardian.shortcuts import assign_perm, remove_perm

from accounts.models import Organisation, User
from accounts.permissions import ACCOUNT_MANAGER_OBJECT_PERMS

from .models import (
    AccountCoverage,
    ComputedMembership,
    CoverageSource,
    RepAssignment,
    SegmentCondition,
    SegmentKind,
    SegmentMembership,
)
from .rules import segment_q
from .versioning import bump_buyers


def _segment_members(segment, organisations) -> set[int]:
    """The organisations (of those given) in `segment`, whatever its kind: one query."""
    if not segment.is_active:
        return set()
    if segment.kind == SegmentKind.RULE:
        conditions = list(SegmentCondition.objects.filter(segment=segment).order_by("id"))
        found = organisations.filter(segment_q(segment, conditions))
    else:
        rows = SegmentMembership if segment.kind == SegmentKind.STATIC else ComputedMembership
        found = rows.objects.filter(segment=segment, organisation__in=organisations)
        found = found.values_list("organisation_id", flat=True)
        return set(found)
    return set(found.values_list("pk", flat=True))


def group_reps(organisations) -> dict[int, tuple[int, str, str]]:
    """For each organisation of the queryset a customer group covers: (account manager id,
    source, the segment or territory in words). One query per assignment."""
    found: dict[int, tuple[int, str, str]] = {}
    assignments = RepAssignment.objects.select_related("segment", "territory").order_by("id")
    by_segment = [a for a in assignments if a.segment_id]
    by_territory = [a for a in assignments if a.territory_id]
    for assignment in by_segment:
        for pk in _segment_members(assignment.segment, organisations) - set(found):
            found[pk] = (assignment.account_manager_id, CoverageSource.SEGMENT,
                         str(assignment.segment))
    for assignment in by_territory:
        covered = organisations.filter(postcode_area__in=assignment.territory.areas.all())
        for pk in set(covered.values_list("pk", flat=True)) - set(found):
            found[pk] = (assignment.account_manager_id, CoverageSource.TERRITORY,
                         str(assignment.territory))
    return found


def _move_permissions(organisation_id: int, old, new, own) -> None:
    """Take the account-manager permissions from `old` (unless the organisation's own manager)
    and give them to `new`."""
    organisation = Organisation(pk=organisation_id)
    if old and old != new and old != own:
        for codename in ACCOUNT_MANAGER_OBJECT_PERMS:
            remove_perm(codename, _user(old), organisation)
    if new and new != old:
        for codename in ACCOUNT_MANAGER_OBJECT_PERMS:
            assign_perm(codename, _user(new), organisation)


def _user(pk) -> User:
    return User.objects.get(pk=pk)


@transaction.atomic
def account_coverage_sync(*, organisation_ids=None) -> int:
    """Recompute the group coverage of the organisations named (every one when None) and move
    the admin permissions to each one's effective account manager; returns how many changed."""
    organisations = Organisation.objects.all()
    if organisation_ids is not None:
        organisations = organisations.filter(pk__in=list(organisation_ids))
    groups = group_reps(organisations)
    stored = {c.organisation_id: c for c in
              AccountCoverage.objects.filter(organisation__in=organisations)}
    changed = []
    for pk, own in organisations.values_list("pk", "account_manager_id"):
        rep, source, via = groups.get(pk, (None, "", ""))
        row = stored.get(pk) or AccountCoverage(organisation_id=pk)
        grant = None if own else rep
        if (row.account_manager_id, row.source, row.via, row.granted_to_id) == (
            rep, source, via, grant
        ):
            continue
        _move_permissions(pk, row.granted_to_id, grant, own)
        row.account_manager_id, row.source, row.via, row.granted_to_id = rep, source, via, grant
        row.save()
        changed.append(pk)
    if changed:
        bump_buyers(organisation_ids=changed)
    return len(changed)


@transaction.atomic
def rep_assignment_save(*, assignment: RepAssignment) -> RepAssignment:
    """Create or change a group assignment; the coverage and admin permissions follow."""
    assignment.full_clean()
    assignment.save()
    account_coverage_sync()
    return assignment


@transaction.atomic
def rep_assignment_remove(*, assignment: RepAssignment) -> None:
    assignment.delete()
    account_coverage_sync()
