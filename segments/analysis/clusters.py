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
from django.db.models import FloatField, Func
from django.db.models.functions import Cast
from django.utils import timezone
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist
from sklearn.cluster import KMeans, MiniBatchKMeans
from threadpoolctl import threadpool_limits

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

class DaysBetween(Func):
    """Days from the second datetime to the first, as a float, on PostgreSQL and SQLite."""

    output_field = FloatField()
    arity = 2
    template = "CAST(EXTRACT(EPOCH FROM (%(expressions)s)) / 86400 AS double precision)"
    arg_joiner = " - "

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="(julianday(%(expressions)s))",
                           arg_joiner=") - julianday(", **extra)


@dataclass
class Categories:
    """The top-level categories (the feature columns of the category mix) and, for every
    category, the column of its top-level one: the first element of its path."""

    roots: list[tuple[int, str]]
    column_of: np.ndarray  # indexed by category id; -1 for none


def _categories() -> Categories:
    rows = list(Category.objects.order_by("pk").values_list("pk", "path", "name"))
    roots = [(pk, name) for pk, path, name in rows if path.count(".") == 1]
    column = {pk: i for i, (pk, _name) in enumerate(roots)}
    column_of = np.full((rows[-1][0] + 1) if rows else 1, -1, dtype=np.int64)
    for pk, path, _name in rows:
        root = int(path.split(".", 1)[0] or 0)
        column_of[pk] = column.get(root, -1)
    return Categories(roots=roots, column_of=column_of)


def _fetch(queryset) -> list[tuple]:
    """The rows of a values_list queryset straight from the cursor: floats and strings as the
    database gives them, without a Python object per value."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _buyer_filter(audience: str, prefix: str = "") -> dict:
    side = "organisation" if audience == Audience.ORGANISATIONS else "user"
    return {f"{prefix}{side}__isnull": False, f"{prefix}orders_total__gt": 0}


def _read_facts(audience: str) -> list[tuple]:
    """One query: the feature columns of every buyer of the audience with at least one order.
    Recency is counted to when the facts were computed, so the same facts give the same days."""
    columns = ["pk", "recency", "orders", "revenue", "aov", "cadence_days"]
    if audience == Audience.ORGANISATIONS:
        columns += ["organisation__kind", "organisation__size_band"]
    return _fetch(
        BuyerFacts.objects.filter(**_buyer_filter(audience))
        .annotate(
            recency=DaysBetween("computed_at", "last_order_at"),
            orders=Cast("orders_12m", FloatField()),
            revenue=Cast("revenue_12m", FloatField()),
            aov=Cast("average_order_value", FloatField()),
        )
        .order_by("pk")
        .values_list(*columns)
    )


def _read_category_revenue(audience: str, facts_ids: np.ndarray, categories: Categories):
    """One query: each buyer's 12-month revenue per top-level category, as a rows × categories
    matrix in the order of `categories.roots`."""
    rows = _fetch(
        BuyerCategoryFacts.objects.filter(**_buyer_filter(audience, "facts__"), revenue_12m__gt=0)
        .annotate(revenue=Cast("revenue_12m", FloatField()))
        .values_list("facts_id", "category_id", "revenue")
    )
    matrix = np.zeros((len(facts_ids), len(categories.roots)), dtype=np.float64)
    if not rows or not categories.roots:
        return matrix
    table = np.array(rows, dtype=np.float64)
    buyers, category_ids = table[:, 0].astype(np.int64), table[:, 1].astype(np.int64)
    revenue = table[:, 2]
    known = category_ids < len(categories.column_of)
    columns = np.where(known, categories.column_of[np.where(known, category_ids, 0)], -1)
    at = np.minimum(np.searchsorted(facts_ids, buyers), len(facts_ids) - 1)
    keep = (facts_ids[at] == buyers) & (columns >= 0)
    np.add.at(matrix, (at[keep], columns[keep]), revenue[keep])
    return matrix


def _read(audience: str, categories: Categories) -> AudienceData | None:
    rows = _read_facts(audience)
    if len(rows) < MIN_BUYERS:
        return None
    cols = list(zip(*rows, strict=True))
    ids = np.array(cols[0], dtype=np.int64)
    number = [np.array(c, dtype=np.float64) for c in cols[1:6]]  # None becomes NaN
    recency, orders, revenue, aov, cadence = number
    data = AudienceData(
        audience=audience,
        facts_ids=ids,
        numbers={
            "recency_days": np.maximum(np.nan_to_num(recency), 0),
            "orders_12m": orders,
            "revenue_12m": revenue,
            "average_order_value": np.where(np.isnan(aov), revenue / np.maximum(orders, 1), aov),
            "cadence_days": cadence,
        },
        category_revenue=_read_category_revenue(audience, ids, categories),
        categories=categories.roots,
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
    12-month revenue, and for organisations kind and size band one-hot. Shares and one-hots stay
    0..1, so that a wholly different category mix, kind or size band weighs about as much as a
    difference of 1.4 standard deviations in one of the numbers."""
    columns = list(NUMERIC)
    parts = [np.log1p(np.maximum(np.nan_to_num(data.numbers[name]), 0)) for name in NUMERIC]
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
    data.raw = np.column_stack(parts).astype(np.float32)
    mean = np.zeros(len(columns), dtype=np.float32)
    scale = np.ones(len(columns), dtype=np.float32)
    numeric = data.raw[:, : len(NUMERIC)]
    mean[: len(NUMERIC)] = numeric.mean(axis=0)
    std = numeric.std(axis=0)
    scale[: len(NUMERIC)] = np.where(std > 0, std, 1)
    return FeatureSpace(columns=columns, mean=mean, scale=scale)


# Fitting ----------------------------------------------------------------------------------------

def _sample(rows: int, seed: int) -> np.ndarray:
    if rows <= SILHOUETTE_SAMPLE:
        return np.arange(rows)
    return np.sort(np.random.default_rng(seed).choice(rows, SILHOUETTE_SAMPLE, replace=False))


def _distances(rows: np.ndarray) -> np.ndarray:
    """Euclidean distances between every two rows (float32: 100 MB at 5,000 rows)."""
    squares = (rows * rows).sum(axis=1)
    matrix = rows @ rows.T
    matrix *= -2  # in place: no second 100 MB array
    matrix += squares[:, None]
    matrix += squares[None, :]
    np.maximum(matrix, 0, out=matrix)
    return np.sqrt(matrix, out=matrix)


def silhouette(distances: np.ndarray, labels: np.ndarray) -> float:
    """The mean silhouette coefficient (as sklearn.metrics.silhouette_score) from a distance
    matrix that is computed once for every k: one product with the labels' one-hot matrix."""
    found, labels = np.unique(labels, return_inverse=True)
    everyone = np.arange(len(labels))
    sums = distances @ np.eye(len(found), dtype=distances.dtype)[labels]
    counts = np.bincount(labels).astype(np.float64)
    own = counts[labels]
    inside = sums[everyone, labels] / np.maximum(own - 1, 1)
    between = sums / counts
    between[everyone, labels] = np.inf
    nearest = between.min(axis=1)
    scores = (nearest - inside) / np.maximum(np.maximum(inside, nearest), 1e-12)
    return float(np.where(own > 1, scores, 0).mean())


def _kmeans(k: int, seed: int, init="k-means++", n_init=N_INIT):
    return KMeans(n_clusters=k, random_state=seed, n_init=n_init, init=init)


def _fit_all(features: np.ndarray, centres: np.ndarray, seed: int) -> np.ndarray:
    """Labels of every row, starting from the centres found on the sample."""
    k = len(centres)
    if len(features) > MINI_BATCH_ABOVE:
        model = MiniBatchKMeans(n_clusters=k, random_state=seed, init=centres, n_init=1,
                                batch_size=4096)
    else:
        model = _kmeans(k, seed, init=centres, n_init=1)
    return model.fit(features).labels_


def choose_and_fit(features: np.ndarray, *, seed: int) -> np.ndarray | None:
    """Labels of the k (2..8, at most the number of distinct rows) with the best silhouette score
    on a seeded sample of at most 5,000 rows; None when the rows do not make two groups. Each k is
    fitted on the sample; the chosen one then on every row. One thread: k-means' OpenMP threads
    spin against the database and the web processes on a small machine."""
    distinct = len(np.unique(features, axis=0))
    sample = features[_sample(len(features), seed)]
    best = None
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fewer distinct points than clusters in a sample
        distances = _distances(sample)
        for k in K_CHOICES:
            if k > distinct:
                break
            model = _kmeans(k, seed).fit(sample)
            if len(np.unique(model.labels_)) < 2:
                continue
            score = silhouette(distances, model.labels_)
            if best is None or score > best[0]:
                best = (score, model)
        del distances
        if best is None:
            return None
        if len(sample) == len(features):
            return best[1].labels_
        return _fit_all(features, best[1].cluster_centers_, seed)


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


def _array_literal(values: np.ndarray) -> str:
    """A PostgreSQL array literal of integers: much quicker to send than a list adapted item by
    item."""
    return "{" + ",".join(map(str, values.tolist())) + "}"


def _write_assignments(audience: str, facts_ids: np.ndarray, cluster_ids: np.ndarray) -> None:
    """Point every clustered buyer at its new cluster, then every other buyer of the audience
    still pointing at an old one at none: a fixed number of statements whatever the number of
    buyers, and each row written once."""
    table = connection.ops.quote_name(BuyerFacts._meta.db_table)
    if len(facts_ids):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"UPDATE {table} AS f SET cluster_id = v.cluster_id "  # noqa: S608
                    "FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, cluster_id) "
                    "WHERE f.id = v.id",
                    [_array_literal(facts_ids), _array_literal(cluster_ids)],
                )
            else:
                pairs = json.dumps(np.column_stack([facts_ids, cluster_ids]).tolist())
                cursor.execute(
                    f"UPDATE {table} SET cluster_id = json_extract(v.value, '$[1]') "  # noqa: S608
                    f"FROM json_each(%s) AS v WHERE {table}.id = json_extract(v.value, '$[0]')",
                    [pairs],
                )
    side = "organisation" if audience == Audience.ORGANISATIONS else "user"
    BuyerFacts.objects.filter(**{f"{side}__isnull": False, "cluster__isnull": False}).exclude(
        cluster_id__in=sorted(set(cluster_ids.tolist()))
    ).update(cluster=None)


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


def _refit_audience(audience: str, categories: Categories, *, run, seed: int, now) -> list[Cluster]:
    data = _read(audience, categories)
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
    categories = _categories()
    with transaction.atomic():
        return [
            cluster
            for audience in (Audience.ORGANISATIONS, Audience.CONSUMERS)
            for cluster in _refit_audience(audience, categories, run=run, seed=seed, now=now)
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
