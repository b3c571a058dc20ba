"""Reads for staff: who holds which rights where (the matrix) and which rights conflict."""

from dataclasses import dataclass, field
from itertools import combinations

from django.db.models import QuerySet

from catalog.models import Category

from .models import Territory, TerritoryRight, rights_conflict, validity_q


def rights_for_staff(distributor_ids: frozenset[int] | None) -> QuerySet[TerritoryRight]:
    """Every right, or only those of the given distributors (an account manager's)."""
    rights = TerritoryRight.objects.all()
    if distributor_ids is not None:
        rights = rights.filter(distributor_id__in=distributor_ids)
    return rights


@dataclass
class MatrixCell:
    """The distributors holding a right in one territory to some line of one top-level category."""

    holders: dict[str, bool] = field(default_factory=dict)  # distributor name -> exclusive

    def add(self, name: str, exclusive: bool) -> None:
        self.holders[name] = self.holders.get(name, False) or exclusive

    @property
    def entries(self) -> list[tuple[str, bool]]:
        return sorted(self.holders.items())


@dataclass(frozen=True)
class RightsMatrix:
    territories: list[Territory]
    categories: list[Category]
    cells: dict[tuple[int, int], MatrixCell]

    def rows(self):
        """(territory, [cell per top-level category]) for a table."""
        for territory in self.territories:
            yield territory, [
                self.cells.get((territory.pk, category.pk), MatrixCell())
                for category in self.categories
            ]


def _root_id(path: str) -> int:
    return int(path.split(".", 1)[0])


def rights_matrix(*, day, distributor_ids: frozenset[int] | None = None) -> RightsMatrix:
    """Territory × top-level category → distributors holding a right valid on `day` to any line in
    that category (the category itself, one below it, or one of its products). Three queries."""
    territories = list(Territory.objects.order_by("-is_region", "name"))
    roots = list(Category.objects.filter(parent__isnull=True).order_by("position", "name"))
    rights = (
        rights_for_staff(distributor_ids)
        .filter(validity_q(day))
        .select_related("distributor", "category", "product__category")
    )
    cells: dict[tuple[int, int], MatrixCell] = {}
    for right in rights:
        key = (right.territory_id, _root_id(right.coverage_path()))
        cells.setdefault(key, MatrixCell()).add(right.distributor.name, right.exclusive)
    return RightsMatrix(territories, roots, cells)


@dataclass(frozen=True)
class Conflict:
    first: TerritoryRight
    second: TerritoryRight
    shared_areas: tuple[str, ...]


def right_conflicts(distributor_ids: frozenset[int] | None = None) -> list[Conflict]:
    """Pairs of stored rights that break exclusivity: entered before validation existed, made by a
    bulk import, or created when a postcode area was added to a territory. Two queries."""
    rights = list(
        TerritoryRight.objects.select_related(
            "distributor", "territory", "category", "product__category"
        ).prefetch_related("territory__areas")
        .order_by("pk")
    )
    areas = {r.pk: {a.code for a in r.territory.areas.all()} for r in rights}
    conflicts = []
    for a, b in combinations(rights, 2):
        if not (a.exclusive or b.exclusive):
            continue
        shared = areas[a.pk] & areas[b.pk]
        same_territory = a.territory_id == b.territory_id
        if rights_conflict(a, b, areas_shared=bool(shared) or same_territory):
            conflicts.append(Conflict(a, b, tuple(sorted(shared))))
    if distributor_ids is not None:
        conflicts = [
            c for c in conflicts
            if c.first.distributor_id in distributor_ids
            or c.second.distributor_id in distributor_ids
        ]
    return conflicts
