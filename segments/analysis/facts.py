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

Margin stays empty: neither the catalogue nor pricing holds a cost price.

Every statement is set-based (INSERT … SELECT with an upsert, one per audience), so the cost
grows with the orders read, never with a query per buyer.
"""

import calendar
import datetime
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from segments.models import BuyerCategoryFacts, BuyerFacts
from segments.rules import consumer_buyers, organisation_buyers

from . import COUNTED_STATES

CURRENCY = "GBP"
# Orders written by transactions still open when the last refresh read them carry an earlier
# `updated_at`: an incremental refresh looks this far behind the last one to catch them.
OVERLAP = datetime.timedelta(minutes=5)

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


def _audiences() -> dict[str, dict[str, str]]:
    """Per audience: the temporary table of target ids, the facts column naming the buyer, the
    order column naming it, and which orders belong to the audience."""
    return {
        "organisations": {
            "target": _TARGETS["organisations"], "column": "organisation_id",
            "key": "o.organisation_id", "only": "o.organisation_id IS NOT NULL",
        },
        "consumers": {
            "target": _TARGETS["consumers"], "column": "user_id",
            "key": "o.placed_by_id", "only": "o.organisation_id IS NULL",
        },
    }


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


def _counted(audience: dict[str, str]) -> str:
    """The WHERE clause of the counted orders of the target buyers of one audience."""
    states = ", ".join(f"%(state_{i})s" for i in range(len(COUNTED_STATES)))
    return (
        f"o.state IN ({states}) AND o.currency = %(currency)s AND o.placed_at <= %(now)s "
        f"AND {audience['only']}"
    )


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


_FACT_COLUMNS = (
    "first_order_at", "last_order_at", "orders_total", "orders_12m", "revenue_12m", "margin_12m",
    "revenue_last_6m", "revenue_prior_6m", "average_order_value", "cadence_days", "trend",
    "computed_at",
)


def _upsert_facts_sql(audience: dict[str, str], tables: dict[str, str]) -> str:
    column = audience["column"]
    other = "user_id" if column == "organisation_id" else "organisation_id"
    updates = ", ".join(f"{name} = excluded.{name}" for name in _FACT_COLUMNS)
    return f"""
        WITH counted AS (
            SELECT {audience['key']} AS buyer_id, o.placed_at, o.total_net
            FROM {tables['order']} o JOIN {audience['target']} t ON t.id = {audience['key']}
            WHERE {_counted(audience)}
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
        FROM {audience['target']} t
        LEFT JOIN totals a ON a.buyer_id = t.id
        LEFT JOIN cadence c ON c.buyer_id = t.id
        WHERE TRUE
        ON CONFLICT ({column}) WHERE {column} IS NOT NULL DO UPDATE SET {updates}
    """  # noqa: S608 -- names from model metadata, values as parameters


def _insert_categories_sql(audience: dict[str, str], tables: dict[str, str]) -> str:
    """Per buyer and category: first aggregate each order's lines of a category, then the
    orders; counting orders this way avoids a COUNT(DISTINCT) over every line."""
    return f"""
        INSERT INTO {tables['categories']} (facts_id, category_id, first_bought_at,
            last_bought_at, orders_total, orders_12m, units_12m, revenue_12m)
        SELECT facts_id, category_id, MIN(placed_at), MAX(placed_at), COUNT(*),
            SUM(CASE WHEN placed_at > %(year_ago)s THEN 1 ELSE 0 END),
            COALESCE(SUM(CASE WHEN placed_at > %(year_ago)s THEN units END), 0),
            COALESCE(SUM(CASE WHEN placed_at > %(year_ago)s THEN net END), 0)
        FROM (
            SELECT f.id AS facts_id, p.category_id, o.id AS order_id, o.placed_at,
                SUM(l.quantity) AS units, SUM(l.line_net) AS net
            FROM {tables['order']} o
            JOIN {audience['target']} t ON t.id = {audience['key']}
            JOIN {tables['facts']} f ON f.{audience['column']} = t.id
            JOIN {tables['line']} l ON l.order_id = o.id
            JOIN {tables['product']} p ON p.id = l.product_id
            WHERE {_counted(audience)}
            GROUP BY f.id, p.category_id, o.id, o.placed_at
        ) per_order
        GROUP BY facts_id, category_id
    """  # noqa: S608


def _fill_targets(cursor, *, full: bool) -> None:
    """The buyers to (re)write, in two temporary tables of ids."""
    organisations, consumers = organisation_buyers(), consumer_buyers()
    if not full:
        last = BuyerFacts.objects.aggregate(last=Max("computed_at"))["last"]
        if last is not None:
            since = last - OVERLAP
            changed = apps.get_model("ordering.Order").objects.filter(
                Q(updated_at__gt=since) | Q(placed_at__gt=since)
            )
            organisations = organisations.filter(
                Q(pk__in=changed.filter(organisation__isnull=False).values("organisation_id"))
                | ~Q(pk__in=BuyerFacts.objects.filter(organisation__isnull=False)
                     .values("organisation_id"))
            )
            consumers = consumers.filter(
                Q(pk__in=changed.filter(organisation__isnull=True).values("placed_by_id"))
                | ~Q(pk__in=BuyerFacts.objects.filter(user__isnull=False).values("user_id"))
            )
    for table, queryset in (
        (_TARGETS["organisations"], organisations),
        (_TARGETS["consumers"], consumers),
    ):
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TEMPORARY TABLE {table} (id bigint PRIMARY KEY)")
        sql, params = queryset.values("pk").query.sql_with_params()
        cursor.execute(f"INSERT INTO {table} (id) {sql}", params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {table}")


def _clear_categories(cursor, tables, *, full: bool) -> None:
    if full:
        cursor.execute(f"DELETE FROM {tables['categories']}")  # noqa: S608
        return
    for audience in _audiences().values():
        cursor.execute(
            f"""DELETE FROM {tables['categories']} WHERE facts_id IN (
                SELECT f.id FROM {tables['facts']} f
                JOIN {audience['target']} t ON t.id = f.{audience['column']})"""  # noqa: S608
        )


def _delete_former_buyers(cursor, tables) -> None:
    """A full refresh keeps rows only for the buyers it wrote (their category rows were already
    cleared)."""
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
        _fill_targets(cursor, full=full)
        _clear_categories(cursor, tables, full=full)
        if full:
            _delete_former_buyers(cursor, tables)
        for audience in _audiences().values():
            cursor.execute(_upsert_facts_sql(audience, tables), params)
            cursor.execute(_insert_categories_sql(audience, tables), params)
        result = FactsRefresh(
            organisation_ids=_ids(cursor, _TARGETS["organisations"]),
            user_ids=_ids(cursor, _TARGETS["consumers"]),
            buyers=BuyerFacts.objects.count(),
        )
        for table in _TARGETS.values():
            cursor.execute(f"DROP TABLE {table}")
    return result
