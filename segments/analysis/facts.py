"""Purchase-history facts per buyer, computed in SQL from the counted orders.

A buyer is an active organisation (its orders, routed ones included, are the orders that name it)
or a retail consumer (the orders with no organisation that they placed). Only GBP orders in a
`COUNTED_STATES` state count. Facts are as at `now`: orders placed after it are left out, the
trailing 12 months are the 12 calendar months up to `now` (an order placed exactly 12 months
before `now` falls outside), and the last 6 months and the 6 before them split those.

A full refresh writes a row for every buyer (zeros and empty dates for one who never ordered) and
deletes the rows of those who are no longer buyers. An incremental one rewrites only the buyers
with an order placed or changed since the last refresh (a cancellation changes the order, so the
buyer is rewritten without it) and the buyers who have no row yet; the other rows keep the facts,
and the windows, of the refresh that wrote them. The scores the later phases write on the same
rows (RFM, tiers, cluster) are left as they are.

The margin of the trailing 12 months is the net revenue less the cost of the order lines that
carry a cost price (`OrderLine.unit_cost`, the product's cost price at submission), over those
lines only; it is empty when no line of the period has one.

A refresh is a fixed number of set-based statements, whatever the number of buyers: temporary
tables of the buyers to write and of their counted orders, an INSERT … SELECT upsert of the facts
per audience, and the category facts of both computed into a temporary table in one pass over the
order lines, then deleted, or upserted where the stored rows differ.
"""

import calendar
import datetime
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection, transaction
from django.db.models import Max, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from segments.models import BuyerCategoryFacts, BuyerFacts
from segments.rules import consumer_buyers, organisation_buyers

from . import COUNTED_STATES

CURRENCY = "GBP"
# Orders written by transactions still open when the last refresh read them carry an earlier
# `updated_at`: an incremental refresh looks this far behind the last one to catch them.
OVERLAP = datetime.timedelta(minutes=5)

# The aggregates of a full refresh hash every buyer at once: room for them in memory.
WORK_MEM = "128MB"

_TARGETS = {"organisations": "segment_facts_organisations", "consumers": "segment_facts_users"}


@dataclass
class FactsRefresh:
    """What a refresh wrote: the buyers whose rows were (re)written, and how many buyers have a
    facts row after it."""

    organisation_ids: set[int] = field(default_factory=set)
    user_ids: set[int] = field(default_factory=set)
    buyers: int = 0

    @property
    def written(self) -> int:
        return len(self.organisation_ids) + len(self.user_ids)


def months_before(moment: datetime.datetime, months: int) -> datetime.datetime:
    """The same time of day `months` calendar months earlier (the 31st becomes the month's last
    day)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _table(label: str) -> str:
    return connection.ops.quote_name(apps.get_model(label)._meta.db_table)


def _tables() -> dict[str, str]:
    return {
        "order": _table("ordering.Order"),
        "line": _table("ordering.OrderLine"),
        "product": _table("catalog.Product"),
        "facts": connection.ops.quote_name(BuyerFacts._meta.db_table),
        "categories": connection.ops.quote_name(BuyerCategoryFacts._meta.db_table),
    }


_ORDERS = "segment_facts_orders"
_CHANGED = "segment_facts_changed"
_CHANGED_ORGANISATIONS = (
    f"SELECT organisation_id FROM {_CHANGED} WHERE organisation_id IS NOT NULL"  # noqa: S608
)
_CHANGED_CONSUMERS = f"SELECT user_id FROM {_CHANGED} WHERE organisation_id IS NULL"  # noqa: S608
_CATEGORIES = "segment_facts_categories"


def _params(now: datetime.datetime) -> dict:
    adapt = connection.ops.adapt_datetimefield_value
    params = {
        "now": adapt(now),
        "year_ago": adapt(months_before(now, 12)),
        "half_year_ago": adapt(months_before(now, 6)),
        "currency": CURRENCY,
    }
    params.update({f"state_{i}": state for i, state in enumerate(COUNTED_STATES)})
    return params


def _days_between(later: str, earlier: str) -> str:
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400.0"
    return f"(julianday({later}) - julianday({earlier}))"


def _median_gap() -> str:
    """The median gap per buyer from `gaps (buyer_id, gap)`: percentile_cont on PostgreSQL, the
    middle row (or the mean of the middle two) by window functions elsewhere."""
    if connection.vendor == "postgresql":
        return (
            "SELECT buyer_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY gap) AS days "
            "FROM gaps GROUP BY buyer_id"
        )
    return (
        "SELECT buyer_id, AVG(gap) AS days FROM ("
        " SELECT buyer_id, gap, ROW_NUMBER() OVER (PARTITION BY buyer_id ORDER BY gap) AS rn,"
        " COUNT(*) OVER (PARTITION BY buyer_id) AS n FROM gaps"
        ") ranked WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY buyer_id"
    )


def _counted_orders_sql(tables: dict[str, str]) -> str:
    """The counted orders of the target buyers, each with the buyer it counts for: the
    organisation it names, or the consumer who placed it when it names none."""
    states = ", ".join(f"%(state_{i})s" for i in range(len(COUNTED_STATES)))
    return f"""
        INSERT INTO {_ORDERS} (order_id, organisation_id, user_id, placed_at, total_net)
        SELECT o.id, o.organisation_id,
            CASE WHEN o.organisation_id IS NULL THEN o.placed_by_id END, o.placed_at, o.total_net
        FROM {tables['order']} o
        WHERE o.state IN ({states}) AND o.currency = %(currency)s AND o.placed_at <= %(now)s
        AND (o.organisation_id IN (SELECT id FROM {_TARGETS['organisations']})
             OR (o.organisation_id IS NULL
                 AND o.placed_by_id IN (SELECT id FROM {_TARGETS['consumers']})))
    """  # noqa: S608 -- names from model metadata, values as parameters


_FACT_COLUMNS = (
    "first_order_at", "last_order_at", "orders_total", "orders_12m", "revenue_12m", "margin_12m",
    "revenue_last_6m", "revenue_prior_6m", "average_order_value", "cadence_days", "trend",
    "computed_at",
)


def _upsert_facts_sql(column: str, target: str, tables: dict[str, str]) -> str:
    """Insert or update the facts of the target buyers of one audience (`column` names the
    buyer); the scores later phases write on the same rows stay."""
    other = "user_id" if column == "organisation_id" else "organisation_id"
    updates = ", ".join(f"{name} = excluded.{name}" for name in _FACT_COLUMNS)
    return f"""
        WITH counted AS (
            SELECT {column} AS buyer_id, placed_at, total_net FROM {_ORDERS}
            WHERE {column} IS NOT NULL
        ), gaps AS (
            SELECT buyer_id, {_days_between('placed_at', 'previous')} AS gap FROM (
                SELECT buyer_id, placed_at,
                    LAG(placed_at) OVER (PARTITION BY buyer_id ORDER BY placed_at) AS previous
                FROM counted
            ) ordered WHERE previous IS NOT NULL
        ), cadence AS ({_median_gap()}
        ), totals AS (
            SELECT buyer_id, MIN(placed_at) AS first_at, MAX(placed_at) AS last_at,
                COUNT(*) AS orders, SUM(total_net) AS revenue,
                SUM(CASE WHEN placed_at > %(year_ago)s THEN 1 ELSE 0 END) AS orders_12m,
                COALESCE(SUM(CASE WHEN placed_at > %(year_ago)s THEN total_net END), 0)
                    AS revenue_12m,
                COALESCE(SUM(CASE WHEN placed_at > %(half_year_ago)s THEN total_net END), 0)
                    AS revenue_last,
                COALESCE(SUM(CASE WHEN placed_at > %(year_ago)s
                    AND placed_at <= %(half_year_ago)s THEN total_net END), 0) AS revenue_prior
            FROM counted GROUP BY buyer_id
        )
        INSERT INTO {tables['facts']} ({column}, {other}, {', '.join(_FACT_COLUMNS)},
            rfm_group, value_tier, margin_tier, lapsed)
        SELECT t.id, NULL, a.first_at, a.last_at, COALESCE(a.orders, 0),
            COALESCE(a.orders_12m, 0), COALESCE(a.revenue_12m, 0), NULL,
            COALESCE(a.revenue_last, 0), COALESCE(a.revenue_prior, 0),
            CASE WHEN a.orders_12m > 0 THEN ROUND(a.revenue_12m * 1.0 / a.orders_12m, 2)
                 WHEN a.orders > 0 THEN ROUND(a.revenue * 1.0 / a.orders, 2) END,
            c.days,
            CASE WHEN a.revenue_prior > 0 THEN a.revenue_last * 1.0 / a.revenue_prior - 1 END,
            %(now)s, '', '', '', FALSE
        FROM {target} t
        LEFT JOIN totals a ON a.buyer_id = t.id
        LEFT JOIN cadence c ON c.buyer_id = t.id
        WHERE TRUE
        ON CONFLICT ({column}) WHERE {column} IS NOT NULL DO UPDATE SET {updates}
    """  # noqa: S608 -- names from model metadata, values as parameters


_CATEGORY_COLUMNS = (
    "facts_id", "category_id", "first_bought_at", "last_bought_at", "orders_total", "orders_12m",
    "units_12m", "revenue_12m",
)


def _categories_sql(tables: dict[str, str]) -> str:
    """Per buyer and category of both audiences, in one pass over the lines: first each order's
    lines of a category, then its orders (so orders are counted without a COUNT(DISTINCT)),
    then the buyer's facts row. The margin of the costed lines rides along (empty where no line
    had a cost), for the buyer's margin."""
    return f"""
        INSERT INTO {_CATEGORIES} ({', '.join(_CATEGORY_COLUMNS)}, margin_12m)
        SELECT COALESCE(fo.id, fu.id), g.category_id, g.first_at, g.last_at, g.orders,
            g.orders_12m, g.units_12m, g.revenue_12m, g.margin_12m
        FROM (
            SELECT organisation_id, user_id, category_id, MIN(placed_at) AS first_at,
                MAX(placed_at) AS last_at, COUNT(*) AS orders,
                SUM(CASE WHEN placed_at > %(year_ago)s THEN 1 ELSE 0 END) AS orders_12m,
                COALESCE(SUM(CASE WHEN placed_at > %(year_ago)s THEN units END), 0) AS units_12m,
                COALESCE(SUM(CASE WHEN placed_at > %(year_ago)s THEN net END), 0) AS revenue_12m,
                SUM(CASE WHEN placed_at > %(year_ago)s THEN margin END) AS margin_12m
            FROM (
                SELECT co.order_id, co.organisation_id, co.user_id, co.placed_at, p.category_id,
                    SUM(l.quantity) AS units, SUM(l.line_net) AS net,
                    SUM(CASE WHEN l.unit_cost IS NOT NULL
                        THEN l.line_net - l.unit_cost * l.quantity END) AS margin
                FROM {_ORDERS} co
                JOIN {tables['line']} l ON l.order_id = co.order_id
                JOIN {tables['product']} p ON p.id = l.product_id
                GROUP BY co.order_id, co.organisation_id, co.user_id, co.placed_at, p.category_id
            ) per_order
            GROUP BY organisation_id, user_id, category_id
        ) g
        LEFT JOIN {tables['facts']} fo ON fo.organisation_id = g.organisation_id
        LEFT JOIN {tables['facts']} fu ON fu.user_id = g.user_id
    """  # noqa: S608


def _temporary(cursor, table: str, columns: str) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {table}")
    cursor.execute(f"CREATE TEMPORARY TABLE {table} ({columns})")


def _analyse(cursor, table: str) -> None:
    # PostgreSQL never analyses temporary tables by itself: without it, it guesses their size.
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {table}")


def _fill_changed(cursor, since: datetime.datetime) -> None:
    """The buyer of every order placed or changed since `since`, read with one scan of the
    orders for both audiences."""
    changed = apps.get_model("ordering.Order").objects.filter(
        Q(updated_at__gt=since) | Q(placed_at__gt=since)
    ).values("organisation_id", "placed_by_id")
    _temporary(cursor, _CHANGED, "organisation_id bigint, user_id bigint")
    sql, params = changed.query.sql_with_params()
    cursor.execute(f"INSERT INTO {_CHANGED} (organisation_id, user_id) {sql}", params)


def _fill_targets(cursor, *, full: bool) -> None:
    """The buyers to (re)write, in two temporary tables of ids."""
    organisations, consumers = organisation_buyers(), consumer_buyers()
    if not full:
        last = BuyerFacts.objects.aggregate(last=Max("computed_at"))["last"]
        if last is not None:
            since = last - OVERLAP
            _fill_changed(cursor, since)
            organisations = organisations.filter(
                Q(pk__in=RawSQL(_CHANGED_ORGANISATIONS, []))  # noqa: S611
                | ~Q(pk__in=BuyerFacts.objects.filter(organisation__isnull=False)
                     .values("organisation_id"))
            )
            consumers = consumers.filter(
                Q(pk__in=RawSQL(_CHANGED_CONSUMERS, []))  # noqa: S611
                | ~Q(pk__in=BuyerFacts.objects.filter(user__isnull=False).values("user_id"))
            )
    for table, queryset in (
        (_TARGETS["organisations"], organisations),
        (_TARGETS["consumers"], consumers),
    ):
        _temporary(cursor, table, "id bigint PRIMARY KEY")
        sql, params = queryset.values("pk").query.sql_with_params()
        cursor.execute(f"INSERT INTO {table} (id) {sql}", params)
        _analyse(cursor, table)


def _fill_orders(cursor, tables, params) -> None:
    _temporary(
        cursor, _ORDERS,
        "order_id bigint PRIMARY KEY, organisation_id bigint, user_id bigint, "
        "placed_at timestamp with time zone, total_net numeric(14, 2)",
    )
    cursor.execute(_counted_orders_sql(tables), params)
    _analyse(cursor, _ORDERS)


def _write_margins(cursor, tables) -> None:
    """The margin of the buyers with a costed line in the period, from their categories (the
    facts upsert left every written buyer's margin empty)."""
    cursor.execute(
        f"""UPDATE {tables['facts']} SET margin_12m = (
                SELECT ROUND(SUM(n.margin_12m), 2) FROM {_CATEGORIES} n
                WHERE n.facts_id = {tables['facts']}.id)
            WHERE id IN (SELECT facts_id FROM {_CATEGORIES}
                         WHERE margin_12m IS NOT NULL)"""  # noqa: S608
    )


def _write_categories(cursor, tables, params, *, full: bool) -> None:
    """Bring the category facts of the written buyers (of every buyer when `full`) to the
    computed ones, touching only the rows that differ: a repeated refresh rewrites little."""
    _temporary(
        cursor, _CATEGORIES,
        "facts_id bigint, category_id bigint, first_bought_at timestamp with time zone, "
        "last_bought_at timestamp with time zone, orders_total integer, orders_12m integer, "
        "units_12m integer, revenue_12m numeric(14, 2), margin_12m numeric(18, 4), "
        "PRIMARY KEY (facts_id, category_id)",
    )
    cursor.execute(_categories_sql(tables), params)
    _analyse(cursor, _CATEGORIES)
    _write_margins(cursor, tables)
    stored, same = tables["categories"], "c.facts_id = n.facts_id AND c.category_id = n.category_id"
    written = "" if full else f"""AND c.facts_id IN (
        SELECT f.id FROM {tables['facts']} f
        JOIN {_TARGETS['organisations']} t ON t.id = f.organisation_id
        UNION ALL SELECT f.id FROM {tables['facts']} f
        JOIN {_TARGETS['consumers']} t ON t.id = f.user_id)"""  # noqa: S608
    cursor.execute(
        f"DELETE FROM {stored} AS c WHERE NOT EXISTS "  # noqa: S608
        f"(SELECT 1 FROM {_CATEGORIES} n WHERE {same}) {written}"
    )
    differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    values = _CATEGORY_COLUMNS[2:]
    insert = (
        f"INSERT INTO {stored} AS c ({', '.join(_CATEGORY_COLUMNS)}) "  # noqa: S608
        f"SELECT {', '.join(f'n.{name}' for name in _CATEGORY_COLUMNS)} FROM {_CATEGORIES} n"
    )
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {stored})")  # noqa: S608
    if not cursor.fetchone()[0]:
        cursor.execute(insert)  # the first refresh: nothing to compare with
        return
    # One upsert: new pairs inserted, stored ones rewritten only where a value differs. (An
    # anti-join against the table being filled, as an INSERT … WHERE NOT EXISTS is, scans the
    # rows it has just inserted again for every row when the planner takes the table for empty.)
    cursor.execute(
        f"{insert} WHERE TRUE ON CONFLICT (facts_id, category_id) DO UPDATE SET "
        + ", ".join(f"{name} = excluded.{name}" for name in values) + " WHERE "
        + " OR ".join(f"c.{name} {differs} excluded.{name}" for name in values)
    )


def _delete_former_buyers(cursor, tables) -> None:
    """A full refresh keeps rows only for the buyers it wrote (the category rows of the others
    are gone: no computed row matched them)."""
    cursor.execute(
        f"""DELETE FROM {tables['facts']} WHERE
            (organisation_id IS NOT NULL
             AND organisation_id NOT IN (SELECT id FROM {_TARGETS['organisations']}))
            OR (user_id IS NOT NULL
                AND user_id NOT IN (SELECT id FROM {_TARGETS['consumers']}))"""  # noqa: S608
    )


def _ids(cursor, table: str) -> set[int]:
    cursor.execute(f"SELECT id FROM {table}")  # noqa: S608
    return {row[0] for row in cursor.fetchall()}


def refresh_facts(*, full: bool, now: datetime.datetime | None = None) -> FactsRefresh:
    """Write the purchase-history facts of every buyer (`full`) or of the buyers whose orders
    changed since the last refresh, as at `now`, in one transaction."""
    now = now or timezone.now()
    tables, params = _tables(), _params(now)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        _fill_targets(cursor, full=full)
        _fill_orders(cursor, tables, params)
        for column, target in (("organisation_id", _TARGETS["organisations"]),
                               ("user_id", _TARGETS["consumers"])):
            cursor.execute(_upsert_facts_sql(column, target, tables), params)
        if full:
            # The category facts join the facts rows just written: the planner must know how
            # many there are (statistics taken while the table was empty would say none).
            _analyse(cursor, tables["facts"])
        _write_categories(cursor, tables, params, full=full)
        if full:
            _delete_former_buyers(cursor, tables)
        result = FactsRefresh(
            organisation_ids=_ids(cursor, _TARGETS["organisations"]),
            user_ids=_ids(cursor, _TARGETS["consumers"]),
            buyers=BuyerFacts.objects.count(),
        )
        for table in (*_TARGETS.values(), _ORDERS, _CATEGORIES):
            cursor.execute(f"DROP TABLE {table}")
        cursor.execute(f"DROP TABLE IF EXISTS {_CHANGED}")
    return result
