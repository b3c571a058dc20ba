"""Clusters of buyers who resemble each other: k-means on standardised purchase-history features,
with a profile a person can read and a generated name for each cluster.

A refit replaces the current clusters of each audience and keeps the old ones for history. Staff's
own names and the segments staff made of clusters survive: each old cluster is matched to the most
similar new one (nearest centroid, one-to-one) and hands them over.
"""

import json
import warnings
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import DurationField, ExpressionWrapper, F, FloatField, Sum, Value
from django.db.models.functions import Cast, StrIndex, Substr
from django.utils import timezone
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.metrics import silhouette_score

from accounts.models import OrganisationKind, SizeBand
from catalog.models import Category
from segments.models import (
    Audience,
    BuyerCategoryFacts,
    BuyerFacts,
    Cluster,
    ComputedBasis,
    Segment,
    SegmentKind,
)

MIN_BUYERS = 10  # fewer buyers with an order than this: the audience is not clustered
K_CHOICES = range(2, 9)
SILHOUETTE_SAMPLE = 5_000
MINI_BATCH_ABOVE = 20_000  # rows; above it MiniBatchKMeans
N_INIT = 4
HEAVY_SHARE = 0.40  # a category with this share of a cluster's revenue names it "… heavy"
MAJORITY = 0.5  # a kind or size band held by this share of a cluster's members names it
NUMERIC = ("recency_days", "orders_12m", "revenue_12m", "average_order_value")
CADENCE_WORDS = ((10, "weekly"), (21, "fortnightly"), (45, "monthly"), (120, "quarterly"))
KIND_WORDS = {
    OrganisationKind.INTEGRATED_CARE_SYSTEM: "care systems",
    OrganisationKind.NHS_TRUST: "NHS trusts",
    OrganisationKind.PRIVATE_CLINIC: "private clinics",
    OrganisationKind.CLINIC_GROUP: "clinic groups",
    OrganisationKind.DISTRIBUTOR: "distributors",
    OrganisationKind.GP_PRACTICE: "GP practices",
    OrganisationKind.CARE_HOME: "care homes",
    OrganisationKind.PHARMACY: "pharmacies",
}
SIZE_WORDS = {
    SizeBand.MICRO: "micro", SizeBand.SMALL: "small", SizeBand.MEDIUM: "medium",
    SizeBand.LARGE: "large", SizeBand.ENTERPRISE: "very large",
}


@dataclass
class AudienceData:
    """The clustered buyers of one audience: what was read, and the feature matrix built from it."""

    audience: str
    facts_ids: np.ndarray  # sorted ascending
    numbers: dict[str, np.ndarray]  # raw recency days, orders, revenue, AOV, cadence (float64)
    category_revenue: np.ndarray  # rows × top-level categories, 12-month revenue
    categories: list[tuple[int, str]]  # (id, name) of the top-level categories, column order
    kinds: np.ndarray | None = None
    size_bands: np.ndarray | None = None
    columns: list[str] | None = None
    raw: np.ndarray | None = None  # features before standardising (float32)


@dataclass
class FeatureSpace:
    """Column names and the standardisation of one fit, to place any centroid in it."""

    columns: list[str]
    mean: np.ndarray
    scale: np.ndarray

    def standardise(self, rows: np.ndarray) -> np.ndarray:
        return ((rows - self.mean) / self.scale).astype(np.float32)

    def place(self, centroid) -> np.ndarray:
        """An old cluster's stored centroid ([feature, value] pairs) in this space; features it
        did not have count as 0."""
        values = {}
        for pair in centroid or []:
            if isinstance(pair, list | tuple) and len(pair) == 2:
                values[str(pair[0])] = float(pair[1])
        return self.standardise(np.array([values.get(c, 0.0) for c in self.columns]))


# Reading ----------------------------------------------------------------------------------------

def _top_level_categories() -> list[tuple[int, str]]:
    roots = Category.objects.filter(parent__isnull=True).order_by("pk")
    return list(roots.values_list("pk", "name"))


def _buyer_filter(audience: str, prefix: str = "") -> dict:
    side = "organisation" if audience == Audience.ORGANISATIONS else "user"
    return {f"{prefix}{side}__isnull": False, f"{prefix}orders_total__gt": 0}


def _read_facts(audience: str) -> list[tuple]:
    """One query: the feature columns of every buyer of the audience with at least one order."""
    columns = ["pk", "recency", "orders", "revenue", "aov", "cadence_days"]
    if audience == Audience.ORGANISATIONS:
        columns += ["organisation__kind", "organisation__size_band"]
    return list(
        BuyerFacts.objects.filter(**_buyer_filter(audience))
        .annotate(
            recency=ExpressionWrapper(F("computed_at") - F("last_order_at"),
                                      output_field=DurationField()),
            orders=Cast("orders_12m", FloatField()),
            revenue=Cast("revenue_12m", FloatField()),
            aov=Cast("average_order_value", FloatField()),
        )
        .order_by("pk")
        .values_list(*columns)
    )


def _read_category_revenue(audience: str, facts_ids: np.ndarray, roots: list[tuple[int, str]]):
    """One query: each buyer's 12-month revenue per top-level category (the first element of the
    category's path), as a rows × categories matrix in the order of `roots`."""
    path = "category__path"
    rows = (
        BuyerCategoryFacts.objects.filter(**_buyer_filter(audience, "facts__"), revenue_12m__gt=0)
        .annotate(root=Substr(path, 1, StrIndex(path, Value(".")) - 1))
        .values("facts_id", "root")
        .annotate(revenue=Cast(Sum("revenue_12m"), FloatField()))
        .values_list("facts_id", "root", "revenue")
    )
    column = {pk: i for i, (pk, _name) in enumerate(roots)}
    found = [(f, column[int(root)], revenue) for f, root, revenue in rows
             if root and int(root) in column]
    matrix = np.zeros((len(facts_ids), len(roots)), dtype=np.float64)
    if found:
        buyers, categories, revenue = (np.array(c) for c in zip(*found, strict=True))
        at = np.minimum(np.searchsorted(facts_ids, buyers), len(facts_ids) - 1)
        known = facts_ids[at] == buyers
        np.add.at(matrix, (at[known], categories[known]), revenue[known])
    return matrix


def _read(audience: str, roots: list[tuple[int, str]]) -> AudienceData | None:
    rows = _read_facts(audience)
    if len(rows) < MIN_BUYERS:
        return None
    cols = list(zip(*rows, strict=True))
    ids = np.array(cols[0], dtype=np.int64)
    revenue = np.array(cols[3], dtype=np.float64)
    orders = np.array(cols[2], dtype=np.float64)
    aov = np.array([np.nan if v is None else v for v in cols[4]], dtype=np.float64)
    aov = np.where(np.isnan(aov), revenue / np.maximum(orders, 1), aov)
    data = AudienceData(
        audience=audience,
        facts_ids=ids,
        numbers={
            "recency_days": np.array([max(d.total_seconds(), 0) / 86400 for d in cols[1]]),
            "orders_12m": orders,
            "revenue_12m": revenue,
            "average_order_value": aov,
            "cadence_days": np.array([np.nan if v is None else v for v in cols[5]], dtype=float),
        },
        category_revenue=_read_category_revenue(audience, ids, roots),
        categories=roots,
    )
    if audience == Audience.ORGANISATIONS:
        data.kinds = np.array(cols[6], dtype=object)
        data.size_bands = np.array(cols[7], dtype=object)
    return data


# Features ---------------------------------------------------------------------------------------

def _one_hot(values: np.ndarray, codes: list[str], prefix: str):
    return [f"{prefix}:{code}" for code in codes], [(values == code) for code in codes]


def build_features(data: AudienceData) -> FeatureSpace:
    """The feature matrix in a fixed column order: log1p of recency days, 12-month orders, revenue
    and average order value (standardised), each top-level category's share of the buyer's
    12-month revenue, and for organisations kind and size band one-hot (those stay 0..1)."""
    columns = list(NUMERIC)
    parts = [np.log1p(data.numbers[name]) for name in NUMERIC]
    total = data.category_revenue.sum(axis=1, keepdims=True)
    shares = np.divide(data.category_revenue, total, out=np.zeros_like(data.category_revenue),
                       where=total > 0)
    columns += [f"category:{pk}" for pk, _name in data.categories]
    parts += list(shares.T)
    if data.kinds is not None:
        for values, codes, prefix in (
            (data.kinds, list(OrganisationKind.values), "kind"),
            (data.size_bands, ["", *SizeBand.values], "size_band"),
        ):
            names, hots = _one_hot(values, codes, prefix)
            columns += names
            parts += hots
    data.columns = columns
    data.raw = np.column_stack(parts).astype(np.float32)
    mean = np.zeros(len(columns), dtype=np.float32)
    scale = np.ones(len(columns), dtype=np.float32)
    numeric = data.raw[:, : len(NUMERIC)]
    mean[: len(NUMERIC)] = numeric.mean(axis=0)
    std = numeric.std(axis=0)
    scale[: len(NUMERIC)] = np.where(std > 0, std, 1)
    return FeatureSpace(columns=columns, mean=mean, scale=scale)


# Fitting ----------------------------------------------------------------------------------------

def _model(k: int, rows: int, seed: int):
    if rows > MINI_BATCH_ABOVE:
        return MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=N_INIT, batch_size=4096)
    return KMeans(n_clusters=k, random_state=seed, n_init=N_INIT)


def choose_and_fit(features: np.ndarray, *, seed: int) -> np.ndarray | None:
    """Labels of the k (2..8, at most the number of distinct rows) with the best silhouette score
    on a seeded sample; None when the rows do not make two groups."""
    rows = len(features)
    distinct = len(np.unique(features, axis=0))
    sample = SILHOUETTE_SAMPLE if rows > SILHOUETTE_SAMPLE else None
    best = None
    for k in K_CHOICES:
        if k > distinct:
            break
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            labels = _model(k, rows, seed).fit(features).labels_
        try:
            score = silhouette_score(features, labels, sample_size=sample, random_state=seed)
        except ValueError:  # one label only (in the sample)
            continue
        if best is None or score > best[0]:
            best = (score, labels)
    return None if best is None else best[1]


def _numbered(labels: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """Renumber labels 1..k by size, largest first (ties by centroid), so the numbers do not
    depend on the order k-means happened to find the groups in."""
    found = np.unique(labels)
    keys = sorted(
        found, key=lambda lab: (-(labels == lab).sum(), raw[labels == lab].mean(axis=0).tolist())
    )
    numbers = np.zeros(labels.max() + 1, dtype=np.int64)
    for number, label in enumerate(keys, start=1):
        numbers[label] = number
    return numbers[labels]


# Profiles and names -----------------------------------------------------------------------------

def _money(value: float) -> str:
    return str(Decimal(float(value)).quantize(Decimal("0.01")))


def _mix(values: np.ndarray, labels: dict) -> list[dict]:
    codes, counts = np.unique(values, return_counts=True)
    order = sorted(zip(codes.tolist(), counts.tolist(), strict=True), key=lambda p: (-p[1], p[0]))
    return [
        {"code": code, "label": str(labels.get(code, "not given")),
         "share": round(n / len(values), 3)}
        for code, n in order
    ]


def _profile(data: AudienceData, members: np.ndarray, clustered: int) -> dict:
    numbers = {name: values[members] for name, values in data.numbers.items()}
    cadence = numbers["cadence_days"][~np.isnan(numbers["cadence_days"])]
    revenue = data.category_revenue[members].sum(axis=0)
    total = revenue.sum()
    shares = [(pk, name, value / total)
              for (pk, name), value in zip(data.categories, revenue, strict=True) if value > 0]
    top = sorted(shares, key=lambda c: (-c[2], c[0]))[:3]
    profile = {
        "size": int(members.sum()),
        "share_of_audience": round(float(members.sum()) / clustered, 3),
        "medians": {
            "recency_days": round(float(np.median(numbers["recency_days"])), 1),
            "orders_12m": round(float(np.median(numbers["orders_12m"])), 1),
            "revenue_12m": _money(np.median(numbers["revenue_12m"])),
            "average_order_value": _money(np.median(numbers["average_order_value"])),
            "cadence_days": round(float(np.median(cadence)), 1) if len(cadence) else None,
        },
        "top_categories": [{"id": pk, "name": name, "share": round(float(s), 3)}
                           for pk, name, s in top],
    }
    if data.kinds is not None:
        profile["kinds"] = _mix(data.kinds[members], dict(OrganisationKind.choices))
        profile["size_bands"] = _mix(data.size_bands[members], dict(SizeBand.choices))
    return profile


def cadence_word(days: float | None) -> str:
    for limit, word in CADENCE_WORDS:
        if days is not None and days <= limit:
            return word
    return "occasional"


def _lower_first(name: str) -> str:
    keep = len(name) > 1 and name[1].isupper()  # an acronym such as "ECG electrodes"
    return name if keep else name[:1].lower() + name[1:]


def _who(profile: dict) -> str:
    if "kinds" not in profile:
        return "consumers"
    kind, band = profile["kinds"][0], profile["size_bands"][0]
    words = []
    if band["share"] >= MAJORITY and band["code"] in SIZE_WORDS:
        words.append(SIZE_WORDS[band["code"]])
    majority = kind["share"] >= MAJORITY and kind["code"] in KIND_WORDS
    words.append(KIND_WORDS[kind["code"]] if majority else "mixed organisations")
    return " ".join(words)


def generated_name(profile: dict) -> str:
    """"large NHS trusts · monthly · wound care heavy": who, how often, and what they buy."""
    top = profile["top_categories"]
    if not top:
        buys = "nothing in 12 months"
    elif top[0]["share"] >= HEAVY_SHARE:
        buys = f"{_lower_first(top[0]['name'])} heavy"
    else:
        buys = "mixed"
    return " · ".join((_who(profile), cadence_word(profile["medians"]["cadence_days"]), buys))


def _unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} {seen[name]}")
    return unique


# Writing ----------------------------------------------------------------------------------------

def _new_clusters(data: AudienceData, space: FeatureSpace, numbers: np.ndarray, *, run, now):
    clusters, centroids = [], []
    profiles = [_profile(data, numbers == n, len(numbers)) for n in range(1, numbers.max() + 1)]
    names = _unique_names([generated_name(p) for p in profiles])
    for number, (profile, name) in enumerate(zip(profiles, names, strict=True), start=1):
        centroid = data.raw[numbers == number].mean(axis=0)
        centroids.append(centroid)
        clusters.append(Cluster(
            audience=data.audience, number=number, generated_name=name, size=profile["size"],
            profile=profile, centroid=[[c, round(float(v), 6)] for c, v in zip(
                space.columns, centroid, strict=True)],
            run=run, computed_at=now,
        ))
    return clusters, space.standardise(np.array(centroids))


def _carry_over(old: list[Cluster], new: list[Cluster], new_centroids, space) -> list[Cluster]:
    """Give each new cluster the staff name and segment of the old cluster nearest to it (one old
    cluster to one new, least total distance). Returns the old clusters left without a match."""
    if not old or not new:
        return old
    old_centroids = np.array([space.place(cluster.centroid) for cluster in old])
    rows, cols = linear_sum_assignment(cdist(old_centroids, new_centroids))
    for r, c in zip(rows, cols, strict=True):
        new[c].name = old[r].name
        new[c].segment_id = old[r].segment_id
    matched = set(rows.tolist())
    return [cluster for i, cluster in enumerate(old) if i not in matched]


def _write_assignments(audience: str, facts_ids: np.ndarray, cluster_ids: np.ndarray) -> None:
    """Point every buyer of the audience at its new cluster (NULL for those not clustered), in a
    fixed number of statements whatever the number of buyers."""
    side = "organisation" if audience == Audience.ORGANISATIONS else "user"
    BuyerFacts.objects.filter(**{f"{side}__isnull": False, "cluster__isnull": False}).update(
        cluster=None
    )
    if not len(facts_ids):
        return
    table = connection.ops.quote_name(BuyerFacts._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} AS f SET cluster_id = v.cluster_id "  # noqa: S608
                "FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, cluster_id) WHERE f.id = v.id",
                [facts_ids.tolist(), cluster_ids.tolist()],
            )
        else:
            pairs = json.dumps(np.column_stack([facts_ids, cluster_ids]).tolist())
            cursor.execute(
                f"UPDATE {table} SET cluster_id = json_extract(v.value, '$[1]') "  # noqa: S608
                f"FROM json_each(%s) AS v WHERE {table}.id = json_extract(v.value, '$[0]')",
                [pairs],
            )


def _follow_segments(new: list[Cluster], orphans: list[Cluster]) -> None:
    """A segment made of a cluster now holds its successor's number; one whose cluster has no
    successor (the audience has fewer clusters now) is switched off rather than filled with the
    members of whichever cluster took its old number."""
    moved = {c.segment_id: str(c.number) for c in new if c.segment_id}
    gone = {c.segment_id for c in orphans if c.segment_id}
    for segment in Segment.objects.filter(pk__in=moved.keys() | gone).order_by("pk"):
        if segment.pk in moved:
            segment.basis_value = moved[segment.pk]
        else:
            segment.is_active = False
        segment.full_clean()
        segment.save(update_fields=["basis_value", "is_active"])


def _refit_audience(audience: str, roots, *, run, seed: int, now) -> list[Cluster]:
    data = _read(audience, roots)
    labels = None
    if data is not None:
        space = build_features(data)
        labels = choose_and_fit(space.standardise(data.raw), seed=seed)
    old = list(Cluster.objects.filter(audience=audience, is_current=True).order_by("number"))
    Cluster.objects.filter(pk__in=[c.pk for c in old]).update(is_current=False)
    if labels is None:
        _write_assignments(audience, np.array([], dtype=np.int64), np.array([], dtype=np.int64))
        _follow_segments([], old)
        return []
    numbers = _numbered(labels, data.raw)
    new, centroids = _new_clusters(data, space, numbers, run=run, now=now)
    orphans = _carry_over(old, new, centroids, space)
    handed = [c.pk for c in old if c.segment_id and c not in orphans]
    Cluster.objects.filter(pk__in=handed).update(segment=None)
    for cluster in new:
        cluster.full_clean(exclude=["run", "segment"], validate_unique=False,
                           validate_constraints=False)
    new = Cluster.objects.bulk_create(new)
    pk_of = np.array([0] + [c.pk for c in new], dtype=np.int64)
    _write_assignments(audience, data.facts_ids, pk_of[numbers])
    _follow_segments(new, orphans)
    return new


def fit_clusters(*, run=None, seed: int = 7) -> list[Cluster]:
    """Cluster the buyers of both audiences afresh and point each buyer's facts at its cluster.
    The same facts and seed give the same clusters, numbers and names."""
    now = timezone.now()
    roots = _top_level_categories()
    with transaction.atomic():
        return [
            cluster
            for audience in (Audience.ORGANISATIONS, Audience.CONSUMERS)
            for cluster in _refit_audience(audience, roots, run=run, seed=seed, now=now)
        ]


def cluster_segment_create(*, cluster: Cluster) -> Segment:
    """A computed segment holding the members of `cluster`, linked to it so that it follows the
    cluster's successor through refits. Refused when the cluster has a segment already."""
    with transaction.atomic():
        cluster = Cluster.objects.select_for_update().get(pk=cluster.pk)
        if not cluster.is_current:
            raise ValidationError("This cluster was replaced by a later fit; use a current one.")
        if cluster.segment_id is not None:
            raise ValidationError(f"{cluster} already has a segment: {cluster.segment.code}.")
        segment = Segment(
            code=f"cluster-{cluster.pk}", name=str(cluster)[:120], kind=SegmentKind.COMPUTED,
            audience=cluster.audience, basis=ComputedBasis.CLUSTER, basis_value=str(cluster.number),
            description=f"Buyers of the cluster “{cluster.generated_name}”.",
        )
        segment.full_clean()
        segment.save()
        cluster.segment = segment
        cluster.save(update_fields=["segment"])
        return segment
