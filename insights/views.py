"""The segment dashboard in the admin: segment sizes and who moved, and sales by segment,
organisation, rep, price list, category and place, each beside the previous period. Staff need
the reports permission; a non-superuser sees only the organisations they look after. Every table
exports as CSV or XLSX with the rows it shows (all of them, when the page shows the top ones)."""

from functools import wraps
from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from accounts.admin_scoping import CHANGE_ORGANISATION, VIEW_ORGANISATION, organisation_scope
from segments.models import Segment

from .forms import PeriodForm, SalesForm
from .selectors.dashboard import Period, sales_by, sales_over_time
from .selectors.segment_dashboard import (
    movement_accounts,
    movements,
    segment_size_weeks,
    segment_sizes,
)
from .tables import Chart, Column, Table, export_response

VIEW_REPORTS = "insights.view_reports"
TOP_ROWS = 50
TOP_BARS = 10
ACCOUNTS_PER_PAGE = 50
LIMITED_DIMENSIONS = ("organisation", "price_list")


def reports_view(view):
    """A report page: staff with the reports permission (superusers hold every permission)."""
    @wraps(view)
    def checked(request, *args, **kwargs):
        if not request.user.has_perm(VIEW_REPORTS):
            raise PermissionDenied
        return view(request, *args, **kwargs)
    return admin.site.admin_view(checked)


def reader_scope(request):
    """The organisations whose figures this reader may see; None for every buyer."""
    viewable = organisation_scope(request, VIEW_ORGANISATION)
    if viewable is None:
        return None
    return viewable | organisation_scope(request, CHANGE_ORGANISATION)


def _render(request, template: str, title: str, context: dict):
    return TemplateResponse(request, f"admin/insights/{template}", {
        **admin.site.each_context(request), "title": title, **context,
    })


def _period_query(period: Period) -> str:
    return urlencode({"start": period.start.isoformat(), "end": period.end.isoformat()})


# Segments: sizes and movement


def _sizes_table(sizes: list[dict], scoped: bool) -> Table:
    columns = [Column("name", "Segment"), Column("kind", "Kind"), Column("audience", "Buyers")]
    if scoped:
        columns.append(Column("members", "Your accounts in it now", "int"))
        caption = "Your organisations in each active segment now."
    else:
        columns += [Column("members", "Members at the end of the period", "int"),
                    Column("members_start", "At the start", "int"),
                    Column("change", "Change", "int")]
        caption = "Members of each active segment at the end of the period and at its start."
    return Table("sizes", "Segment sizes", columns, sizes, caption=caption,
                 empty="No active segment.")


def _size_weeks_table(period: Period, sizes: list[dict]) -> Table:
    series = segment_size_weeks(period=period, sizes=sizes)
    columns = [Column("week", "Week ending", "date"),
               *(Column(f"s{pk}", name, "int") for pk, name in series.segments)]
    chart = Chart("line", "week", tuple(f"s{pk}" for pk, _ in series.segments))
    return Table("size_weeks", "Segment sizes week by week", columns,
                 series.weeks if series.segments else [], chart=chart,
                 caption="Members of each segment at the end of each week of the period.")


def _movement_table(period: Period, scope) -> Table:
    rows = movements(period=period, scope=scope)
    query = _period_query(period)
    for row in rows:
        url = reverse("insights:movement", args=[row["from_id"], row["to_id"]])
        row["href"] = f"{url}?{query}"
    columns = [Column("from", "From"), Column("to", "To"),
               Column("accounts", "Accounts that moved", "int", link="href")]
    return Table("movement", "Who moved between segments", columns, rows,
                 caption="Buyers who left one computed segment and entered another of the same "
                         "analysis in the period; each count lists the accounts.",
                 empty="Nobody moved between computed segments in this period.")


def _period_form(request, form_class):
    """The form filled from the address (every field may be left out), and the period it asks
    for; None when a field is wrong, so the page shows the errors and no figures."""
    form = form_class(request.GET)
    if not form.is_valid():
        return form, None
    return form, form.period()


@reports_view
def segments_view(request):
    """How big is each segment, how it grew or shrank, and who moved between segments."""
    form, period = _period_form(request, PeriodForm)
    context = {"form": form, "period": period, "tables": []}
    if period is not None:
        scope = reader_scope(request)
        sizes = segment_sizes(period=period, scope=scope)
        tables = [_sizes_table(sizes, scope is not None)]
        if scope is None:
            tables.append(_size_weeks_table(period, sizes))
        tables.append(_movement_table(period, scope))
        exported = export_response(request, tables)
        if exported is not None:
            return exported
        context.update(tables=tables, scoped=scope is not None)
    return _render(request, "segments.html", "Segments: sizes and movement", context)


def _account_rows(rows: list[dict]) -> list[dict]:
    for row in rows:
        if row["organisation_id"]:
            row["href"] = reverse("admin:accounts_organisation_change",
                                  args=[row["organisation_id"]])
        else:
            row["href"] = reverse("admin:accounts_user_change", args=[row["user_id"]])
    return rows


@reports_view
def movement_view(request, from_id: int, to_id: int):
    """The accounts that moved from one segment to another in the period, by name."""
    source = get_object_or_404(Segment, pk=from_id)
    target = get_object_or_404(Segment, pk=to_id)
    form, period = _period_form(request, PeriodForm)
    title = f"Moved from {source.name} to {target.name}"
    context = {"form": form, "period": period, "tables": [], "source": source, "target": target}
    if period is not None:
        rows = _account_rows(movement_accounts(period=period, scope=reader_scope(request),
                                               from_id=source.pk, to_id=target.pk))
        columns = [Column("name", "Account", link="href"), Column("kind", "Buyer"),
                   Column("moved_at", "Moved on", "date")]
        table = Table("accounts", title, columns, rows,
                      caption=f"{len(rows)} accounts, by name.",
                      empty="Nobody made this move in the period.")
        exported = export_response(request, [table])
        if exported is not None:
            return exported
        page = Paginator(rows, ACCOUNTS_PER_PAGE).get_page(request.GET.get("page"))
        shown = Table(table.name, table.title, columns, list(page.object_list),
                      caption=table.caption, empty=table.empty)
        context.update(tables=[shown], page=page, count=len(rows))
    return _render(request, "movement.html", title, context)


# Sales


def _figure_columns(first: Column) -> list[Column]:
    columns = [first]
    for key, label, kind in (("revenue", "Revenue", "money"), ("orders", "Orders", "int"),
                             ("units", "Units", "int")):
        columns += [Column(key, label, kind), Column(f"{key}_prev", f"{label}, previous", kind),
                    Column(f"{key}_change", f"{label} change", "percent")]
    for key, label in (("margin", "Margin"), ("discount", "Discount against list")):
        columns += [Column(key, label, "percent"),
                    Column(f"{key}_prev", f"{label}, previous", "percent"),
                    Column(f"{key}_change", f"{label} change (points)", "percent")]
    return columns


def _sales_tables(period: Period, dimension: str, scope, *, show_all: bool):
    limit = None if show_all or dimension not in LIMITED_DIMENSIONS else TOP_ROWS
    breakdown = sales_by(dimension=dimension, period=period, scope=scope, limit=limit)
    label = breakdown.dimension.label
    if dimension == "organisation":
        for row in breakdown.rows:
            if row["key"]:
                row["href"] = reverse("admin:accounts_organisation_change", args=[row["key"]])
    over_time = sales_over_time(period=period, scope=scope)
    note = (" A sale counts once in every segment its buyer was in, so segments overlap and "
            "their rows add up to more than the total." if dimension == "segment" else "")
    tables = [
        Table("totals", "All sales", _figure_columns(Column("name", "Sales")), [over_time.totals],
              caption=f"Every sale in the period, beside the previous {period.days} days."),
        Table("weeks", "Revenue week by week", [
            Column("week", "Week starting", "date"), Column("revenue", "Revenue", "money"),
            Column("revenue_prev", "Same week of the previous period", "money"),
            Column("orders", "Orders", "int"), Column("units", "Units", "int"),
        ], over_time.weeks, chart=Chart("line", "week", ("revenue", "revenue_prev"))),
        Table("top", f"Top {TOP_BARS} by revenue: {label.lower()}", [
            Column("name", label), Column("revenue", "Revenue", "money"),
            Column("revenue_prev", "Previous period", "money"),
        ], breakdown.rows[:TOP_BARS], chart=Chart("bar", "name", ("revenue", "revenue_prev"))),
        Table("breakdown", f"Sales by {label.lower()}",
              _figure_columns(Column("name", label, link="href")), breakdown.rows,
              caption=f"Sales by {label.lower()}, beside the previous period.{note}"),
    ]
    return tables, breakdown.more


@reports_view
def sales_view(request):
    """What each segment, organisation, rep, price list, category and place brings in."""
    form, period = _period_form(request, SalesForm)
    context = {"form": form, "period": period, "tables": []}
    if period is not None:
        dimension = form.dimension_code()
        show_all = request.GET.get("all") == "1" or bool(request.GET.get("export"))
        tables, more = _sales_tables(period, dimension, reader_scope(request),
                                     show_all=show_all)
        exported = export_response(request, tables)
        if exported is not None:
            return exported
        query = request.GET.copy()
        query["all"] = "1"
        context.update(tables=tables, more=more, top_rows=TOP_ROWS, dimension=dimension,
                       show_all_query=query.urlencode())
    return _render(request, "sales.html", "Sales by segment, account and price list", context)
