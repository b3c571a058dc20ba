"""The recompute of the complementary products from the order history.

`recompute_affinities(now=…)` rebuilds, in one transaction and a fixed number of set-based SQL
statements (the same on SQLite and PostgreSQL), both tables of `merchandising.models.affinities`:

- **pairs** (`ProductAffinity`): per scope, for each two products ordered together, the orders
  holding both (support), the share of the first product's orders that hold the second
  (confidence) and how much more often than by chance they go together (lift);
- **peer favourites** (`PeerFavourite`): per scope, the products its buyers order, with their
  share of the scope's buyers and the lift of that share over all buyers.

An order counts when it is committed to fulfilment (`segments.analysis.COUNTED_STATES`) and was
placed within the last `MERCHANDISING_HISTORY_DAYS`. An order holding more than
`MERCHANDISING_BASKET_CAP` distinct products is a stock replenishment rather than a basket and is
left out entirely. A scope is every buyer, each active segment with stored members (static or
computed) and each current cluster; a segment or cluster is only scoped when it holds at least
`MERCHANDISING_MIN_SCOPE_ORDERS` counted orders. docs/recommendations.md has the figures.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from segments.analysis import COUNTED_STATES

from ..models import EVERYONE, PeerFavourite, ProductAffinity
from ..selectors import bump_figures_version


@dataclass(frozen=True)
class AffinitySettings:
    """The knobs of a recompute, from settings (`MERCHANDISING_*`) unless given."""

    history_days: int = 730
    basket_cap: int = 25
    min_support: int = 3
    min_scope_orders: int = 50
    min_lift: float = 1.0
    pairs_per_product: int = 20
    favourites_per_scope: int = 40

    @classmethod
    def from_settings(cls) -> "AffinitySettings":
        return cls(**{
            name: getattr(settings, f"MERCHANDISING_{name.upper()}", default)
            for name, default in cls().__dict__.items()
        })


def _table(label: str) -> str:
    return connection.ops.quote_name(apps.get_model(label)._meta.db_table)


def _tables() -> dict[str, str]:
    return {
        "order": _table("ordering.Order"), "line": _table("ordering.OrderLine"),
        "facts": _table("segments.BuyerFacts"), "cluster": _table("segments.Cluster"),
        "segment": _table("segments.Segment"),
        "member": _table("segments.SegmentMembership"),
        "computed": _table("segments.ComputedMembership"),
        "pairs": _table("merchandising.ProductAffinity"),
        "favourites": _table("merchandising.PeerFavourite"),
    }


ORDERS, ITEMS = "merchandising_orders", "merchandising_items"
SCOPED, SIZED = "merchandising_scoped", "merchandising_sized"
STAGED = (ORDERS, ITEMS, SCOPED, SIZED)


def _memberships(t: dict[str, str], true: str) -> str:
    """(scope, order, buyer) of the counted orders of every active segment's stored members."""
    parts = []
    for table in ("member", "computed"):
        for match in ("m.organisation_id = c.organisation_id",
                      "c.organisation_id IS NULL AND m.user_id = c.user_id"):
            parts.append(f"""
                SELECT 'segment:' || s.code, c.order_id, c.buyer FROM {ORDERS} c
                JOIN {t[table]} m ON {match}
                JOIN {t['segment']} s ON s.id = m.segment_id AND s.is_active = {true}""")  # noqa: S608
    return " UNION ".join(parts)


def _clusters(t: dict[str, str], true: str) -> str:
    """(scope, order, buyer) of the counted orders of every current cluster's members."""
    parts = []
    for match in ("f.organisation_id = c.organisation_id",
                  "c.organisation_id IS NULL AND f.user_id = c.user_id"):
        parts.append(f"""
            SELECT 'cluster:' || CAST(f.cluster_id AS VARCHAR(20)), c.order_id, c.buyer
            FROM {ORDERS} c JOIN {t['facts']} f ON {match}
            JOIN {t['cluster']} k ON k.id = f.cluster_id AND k.is_current = {true}""")  # noqa: S608
    return " UNION ALL ".join(parts)


def _counted(t: dict[str, str]) -> str:
    """counted (order, organisation, user, buyer): the counted orders of the period. A buyer is
    the organisation, or the consumer who placed the order (negative, so the two never meet)."""
    states = ", ".join(["%s"] * len(COUNTED_STATES))
    buyer = "CASE WHEN o.organisation_id IS NULL THEN -o.placed_by_id ELSE o.organisation_id END"
    return f"""counted AS (
            SELECT o.id AS order_id, o.organisation_id, o.placed_by_id AS user_id,
                   {buyer} AS buyer
            FROM {t['order']} o
            WHERE o.state IN ({states}) AND o.placed_at >= %s AND o.placed_at <= %s
        )"""  # noqa: S608 -- names from model metadata, values as parameters


def _stage(cursor, t: dict[str, str], knobs: AffinitySettings, now) -> None:
    """Four temporary tables every figure is read from:

    orders (order, organisation, user, buyer) — the counted orders within the basket cap;
    items (order, product) — the distinct products of each of those orders;
    scoped (scope, order, buyer) — each of those orders once per scope of its buyer, for the
        scopes with enough orders (every buyer always);
    sized (scope, orders, buyers) — those scopes' orders and buyers."""
    adapt = connection.ops.adapt_datetimefield_value
    period = [*COUNTED_STATES, adapt(now - timedelta(days=knobs.history_days)), adapt(now)]
    true = "TRUE" if connection.vendor == "postgresql" else "1"
    for table in STAGED:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
    cursor.execute(f"""
        CREATE TEMPORARY TABLE {ORDERS} AS
        WITH {_counted(t)},
        sizes AS (
            SELECT l.order_id FROM {t['line']} l JOIN counted c ON c.order_id = l.order_id
            GROUP BY l.order_id HAVING COUNT(DISTINCT l.product_id) <= %s
        )
        SELECT c.* FROM counted c JOIN sizes z ON z.order_id = c.order_id
    """, [*period, knobs.basket_cap])  # noqa: S608 -- names from model metadata
    _analyze(cursor, ORDERS)
    cursor.execute(f"""
        CREATE TEMPORARY TABLE {ITEMS} AS
        SELECT DISTINCT l.order_id, l.product_id
        FROM {t['line']} l JOIN {ORDERS} c ON c.order_id = l.order_id
    """)  # noqa: S608 -- names from model metadata
    # Every buyer has at most one facts row, so a cluster holds an order once; a segment's
    # members are deduplicated among themselves (a buyer may be both assigned and computed).
    cursor.execute(f"""
        CREATE TEMPORARY TABLE {SCOPED} AS
        SELECT '{EVERYONE}' AS scope, c.order_id, c.buyer FROM {ORDERS} c
        UNION ALL {_clusters(t, true)}
        UNION ALL SELECT * FROM ({_memberships(t, true).replace(" UNION ALL ", " UNION ")}) m
    """)  # noqa: S608 -- names from model metadata
    cursor.execute(f"""
        CREATE TEMPORARY TABLE {SIZED} AS
        SELECT scope, COUNT(*) AS orders, COUNT(DISTINCT buyer) AS buyers FROM {SCOPED}
        GROUP BY scope HAVING COUNT(*) >= %s OR scope = '{EVERYONE}'
    """, [knobs.min_scope_orders])  # noqa: S608 -- names from model metadata
    cursor.execute(f"DELETE FROM {SCOPED} WHERE scope NOT IN (SELECT scope FROM {SIZED})")  # noqa: S608
    cursor.execute(f"CREATE INDEX {ITEMS}_order ON {ITEMS} (order_id, product_id)")
    for table in (ITEMS, SCOPED, SIZED):
        _analyze(cursor, table)


def _analyze(cursor, table: str) -> None:
    """Give PostgreSQL's planner the temporary table's real size."""
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {table}")


def _real(expression: str) -> str:
    return f"CAST({expression} AS DOUBLE PRECISION)"


PAIRS = f"""
    WITH together AS (
        SELECT s.scope, a.product_id, b.product_id AS other_id, COUNT(*) AS support
        FROM {SCOPED} s
        JOIN {ITEMS} a ON a.order_id = s.order_id
        JOIN {ITEMS} b ON b.order_id = s.order_id AND b.product_id <> a.product_id
        GROUP BY s.scope, a.product_id, b.product_id
        HAVING COUNT(*) >= %s
    ),
    singles AS (
        SELECT s.scope, i.product_id, COUNT(*) AS orders
        FROM {SCOPED} s JOIN {ITEMS} i ON i.order_id = s.order_id
        GROUP BY s.scope, i.product_id
    ),
    measured AS (
        SELECT p.scope, p.product_id, p.other_id, p.support, z.orders AS scope_orders,
               {_real('p.support')} / a.orders AS confidence,
               {_real('p.support')} * z.orders / ({_real('a.orders')} * b.orders) AS lift
        FROM together p JOIN {SIZED} z ON z.scope = p.scope
        JOIN singles a ON a.scope = p.scope AND a.product_id = p.product_id
        JOIN singles b ON b.scope = p.scope AND b.product_id = p.other_id
    ),
    ranked AS (
        SELECT m.*, ROW_NUMBER() OVER (
            PARTITION BY m.scope, m.product_id ORDER BY m.lift DESC, m.confidence DESC, m.other_id
        ) AS position
        FROM measured m WHERE m.lift > %s
    )
    SELECT scope, product_id, other_id, support, scope_orders, confidence, lift
    FROM ranked WHERE position <= %s"""  # noqa: S608 -- temporary tables named here

FAVOURITES = f"""
    WITH bought AS (
        SELECT DISTINCT s.scope, s.buyer, i.product_id
        FROM {SCOPED} s JOIN {ITEMS} i ON i.order_id = s.order_id
    ),
    popular AS (
        SELECT scope, product_id, COUNT(*) AS buyers FROM bought GROUP BY scope, product_id
    ),
    measured AS (
        SELECT p.scope, p.product_id, p.buyers,
               {_real('p.buyers')} / z.buyers AS share,
               ({_real('p.buyers')} / z.buyers) / ({_real('e.buyers')} / w.buyers) AS lift
        FROM popular p JOIN {SIZED} z ON z.scope = p.scope
        JOIN popular e ON e.scope = '{EVERYONE}' AND e.product_id = p.product_id
        JOIN {SIZED} w ON w.scope = '{EVERYONE}'
        WHERE p.buyers >= %s
    ),
    ranked AS (
        SELECT m.*, ROW_NUMBER() OVER (
            PARTITION BY m.scope ORDER BY m.lift DESC, m.share DESC, m.product_id
        ) AS position
        FROM measured m
    )
    SELECT scope, product_id, buyers, share, lift FROM ranked WHERE position <= %s"""  # noqa: S608


def recompute_affinities(*, now=None, full: bool = True,
                         knobs: AffinitySettings | None = None) -> dict | None:
    """Rebuild every scope's pairs and peer favourites from the counted orders as of `now`, in
    one transaction (readers see the old rows until it commits). Returns the counts written.

    The segment job calls it in every run; an incremental (nightly) run (`full=False`) leaves the
    figures as they are: what is ordered together moves slowly, and the weekly full run rebuilds
    them from the whole period."""
    if not full:
        return None
    now = now or timezone.now()
    knobs = knobs or AffinitySettings.from_settings()
    t = _tables()
    written_at = connection.ops.adapt_datetimefield_value(now)
    with transaction.atomic(), connection.cursor() as cursor:
        _stage(cursor, t, knobs, now)
        cursor.execute(f"DELETE FROM {t['pairs']}")  # noqa: S608
        cursor.execute(f"DELETE FROM {t['favourites']}")  # noqa: S608
        cursor.execute(
            f"""INSERT INTO {t['pairs']} (scope, product_id, other_id, support, scope_orders,
            confidence, lift, computed_at) SELECT r.*, %s FROM ({PAIRS}) r""",  # noqa: S608
            [written_at, knobs.min_support, knobs.min_lift, knobs.pairs_per_product],
        )
        cursor.execute(
            f"""INSERT INTO {t['favourites']} (scope, product_id, buyers, share, lift,
            computed_at) SELECT r.*, %s FROM ({FAVOURITES}) r""",  # noqa: S608
            [written_at, knobs.min_support, knobs.favourites_per_scope],
        )
        cursor.execute(f"SELECT COUNT(*) FROM {SIZED}")  # noqa: S608
        scopes = cursor.fetchone()[0]
        for table in STAGED:
            cursor.execute(f"DROP TABLE {table}")
        # Now, and again at commit: a request may cache the old figures in between.
        bump_figures_version()
        transaction.on_commit(bump_figures_version)
    return {
        "pairs": ProductAffinity.objects.count(),
        "favourites": PeerFavourite.objects.count(),
        "scopes": scopes,
    }
