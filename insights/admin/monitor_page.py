"""The pricing monitor's page: its sentences, the table of estimates, the weekly series (each a
chart with its table under it), the strata and the named treated accounts — every table
exportable as CSV or XLSX."""

from dataclasses import dataclass, field

from django.core.paginator import Paginator
from django.utils import timezone

from accounts.models import OrganisationKind, SizeBand

from ..analysis.did import METRICS, Estimate
from ..analysis.monitor import MonitorFigures, monitor_figures
from ..analysis.wording import day_words, effect_sentence, pre_trend_sentence
from ..models import MonitorGroup, PricingMonitor
from ..selectors.monitors import strata_counts, treated_accounts
from ..services.monitors import CONSUMER_STRATUM
from ..tables import Chart, Column, Table

ACCOUNTS_PER_PAGE = 50
SENTENCE_METRICS = ("revenue", "orders", "margin")
CHARTED = (("revenue", "Revenue per account, week by week", "money"),
           ("frequency", "Share of accounts ordering, week by week", "percent"))
_KINDS = dict(OrganisationKind.choices)
_SIZES = dict(SizeBand.choices)


@dataclass
class MonitorPage:
    monitor: PricingMonitor
    figures: MonitorFigures
    sentences: list[str]
    pre_trend: str
    notes: list[str]
    tables: list[Table]
    accounts_page: object = None
    charts: list[Table] = field(default_factory=list)


def stratum_label(stratum: str) -> str:
    if stratum == CONSUMER_STRATUM:
        return "Retail consumers"
    kind, _, size = stratum.partition("/")
    return f"{_KINDS.get(kind, kind)} · {_SIZES.get(size, 'size not recorded')}"


def monitor_page(monitor: PricingMonitor, scope, *, page_number=None, every_account=False):
    """Everything the page shows, for a viewer whose figures cover `scope` (None: all)."""
    today = timezone.localdate()
    figures = monitor_figures(monitor, scope, today)
    result = figures.result
    since = day_words(monitor.starts_on, today)
    group = monitor.segment.name
    sentences = [
        effect_sentence(result.estimates.get(key), label=_metric(key).label, group=group,
                        since=since)
        for key in SENTENCE_METRICS
    ]
    strata = strata_counts(monitor, scope)
    accounts = treated_accounts(monitor, scope)
    paginator = Paginator(accounts, ACCOUNTS_PER_PAGE)
    shown = paginator.get_page(page_number)
    charts = [_weekly_table(figures, key, title, kind) for key, title, kind in CHARTED]
    tables = [_estimates_table(result), *charts, _strata_table(strata),
              _accounts_table(accounts if every_account else shown.object_list)]
    return MonitorPage(
        monitor, figures, sentences, pre_trend_sentence(result.pre_trends.get("revenue")),
        _notes(monitor, result, strata, scope), tables, shown, charts,
    )


def _metric(key):
    return next(m for m in METRICS if m.key == key)


def _notes(monitor, result, strata, scope) -> list[str]:
    notes = []
    if scope is not None:
        notes.append(
            f"These figures cover only the accounts in your book: {result.treated_accounts} "
            f"treated and {result.control_accounts} control accounts."
        )
    left_out = sorted({row["stratum"] for row in strata
                       if row["group"] == MonitorGroup.TREATED and row["compared"] == 0})
    if left_out:
        notes.append(
            "No control account shares the kind and size band of these treated accounts, so "
            f"they are left out of the comparison: {'; '.join(map(stratum_label, left_out))}."
        )
    if result.weeks_after == 0:
        notes.append("No whole week has passed since the start (or since the last refresh of "
                     "the sales figures): the estimates come once one has.")
    if not (result.treated_accounts and result.control_accounts):
        notes.append("There is no treated or no control account to compare.")
    return notes


def _in_units(estimate_value, metric):
    if estimate_value is None:
        return None
    return estimate_value * 100 if metric.kind == "percent" else estimate_value


def _unit(metric) -> str:
    units = {"money": "£ a week", "number": "a week", "percent": "%"}
    return f"{metric.label} ({units[metric.kind]})"


def _estimate_row(metric, estimate: Estimate | None, check) -> dict:
    row = {"metric": _unit(metric)}
    alike = check.alike if check is not None else None
    if estimate is None:
        return row
    for name in ("treated_pre", "treated_post", "control_pre", "control_post", "value", "low",
                 "high"):
        row[name] = _in_units(getattr(estimate, name), metric)
    row.update(relative=estimate.relative, relative_low=estimate.relative_low,
               relative_high=estimate.relative_high)
    row["pre_trend"] = {True: "moved alike", False: "did NOT move alike", None: "—"}[alike]
    row["drift"] = check.slope if check is not None else None
    return row


def _estimates_table(result) -> Table:
    rows = [
        _estimate_row(m, result.estimates.get(m.key), result.pre_trends.get(m.key))
        for m in METRICS
    ]
    columns = [
        Column("metric", "Metric"), Column("treated_pre", "Treated before", "number"),
        Column("treated_post", "Treated since", "number"),
        Column("control_pre", "Control before", "number"),
        Column("control_post", "Control since", "number"),
        Column("value", "Difference in differences", "number"),
        Column("low", "95% CI low", "number"), Column("high", "95% CI high", "number"),
        Column("relative", "Change against counterfactual", "percent"),
        Column("relative_low", "Change: 95% CI low", "percent"),
        Column("relative_high", "Change: 95% CI high", "percent"),
        Column("pre_trend", "Before the start"),
        Column("drift", "Pre-period drift a week", "percent"),
    ]
    return Table("estimates", "Estimates per metric", columns, rows,
                 caption="Per account per week (percent metrics in percentage points); the "
                 "change is relative to what the treated group would have done had it moved as "
                 "the control group did. The drift is the slope of the weekly difference "
                 "(treated − control) before the start, relative to the treated group's level.",
                 empty="No estimate yet.")


def _weekly_table(figures: MonitorFigures, key: str, title: str, kind: str) -> Table:
    series = figures.result.weekly.get(key)
    rows = []
    weeks_before = figures.result.weeks_before
    for week in range(0 if series is None else series.shape[1]):
        treated, control = (_finite(series[0, week]), _finite(series[1, week]))
        rows.append({
            "week": figures.week_start(week), "relative": week - weeks_before,
            "treated": treated, "control": control,
            "difference": None if treated is None or control is None else treated - control,
        })
    columns = [
        Column("week", "Week starting", "date"), Column("relative", "Weeks from the start", "int"),
        Column("treated", "Treated", kind), Column("control", "Control (weighted)", kind),
        Column("difference", "Difference", kind),
    ]
    return Table(key + "_weekly", title, columns, rows,
                 chart=Chart("line", "week", ("treated", "control")),
                 caption=f"{title}: treated and control groups (week 0 is the first week from "
                 "the start).", empty="No weeks to show.")


def _finite(value):
    value = float(value)
    return value if value == value else None  # NaN: a week with nothing to divide by


def _strata_table(strata) -> Table:
    by_stratum = {}
    for row in strata:
        entry = by_stratum.setdefault(row["stratum"], {
            "stratum": stratum_label(row["stratum"]), "treated": 0, "control": 0,
            "weight": None, "compared": "yes",
        })
        entry[row["group"]] = row["accounts"]
        if row["group"] == MonitorGroup.CONTROL and row["accounts"]:
            entry["weight"] = row["weight"] / row["accounts"]
        if row["group"] == MonitorGroup.TREATED and row["compared"] == 0:
            entry["compared"] = "no: no control account"
    columns = [
        Column("stratum", "Kind and size band"), Column("treated", "Treated accounts", "int"),
        Column("control", "Control accounts", "int"),
        Column("weight", "Weight of each control account", "number"),
        Column("compared", "In the comparison"),
    ]
    return Table("strata", "The frozen groups by stratum", columns, list(by_stratum.values()),
                 empty="No account was frozen into this monitor.")


def _accounts_table(accounts) -> Table:
    rows = [
        {"name": str(account.buyer), "stratum": stratum_label(account.stratum),
         "compared": "yes" if account.weight > 0 else "no: no control account"}
        for account in accounts
    ]
    columns = [Column("name", "Account"), Column("stratum", "Kind and size band"),
               Column("compared", "In the comparison")]
    return Table("accounts", "Treated accounts", columns, rows,
                 empty="No treated account that you may see.")
