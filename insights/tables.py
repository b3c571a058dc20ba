"""The tables every report page shows: each one rendered as an accessible HTML table (under its
chart, when it has one) and exportable as CSV or XLSX with the same columns and rows.

A page builds `Table`s and renders them with `{% include "admin/insights/_table.html" %}`; its
view answers `?export=<table name>&format=csv|xlsx` with `export_response` before rendering.
"""

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal

import tablib
from django.http import Http404, HttpResponse

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Column:
    """One column: `key` into each row, its heading, and how its values read.

    kind: "text", "int", "money" (GBP), "percent" (a fraction: 0.12 reads 12.0%), "number"
    or "date". `link`, when given, is the key of each row's address for the cell (a page
    link; exports keep the value only)."""

    key: str
    label: str
    kind: str = "text"
    link: str = ""

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "money", "percent", "number")


@dataclass(frozen=True)
class Chart:
    """What to draw of a table: "line" or "bar", the column on the x axis and the columns drawn
    as series."""

    kind: str
    x: str
    series: tuple[str, ...]
    stacked: bool = False


@dataclass
class Table:
    name: str
    title: str
    columns: list[Column]
    rows: list[dict] = field(default_factory=list)
    chart: Chart | None = None
    caption: str = ""
    empty: str = "Nothing in this period."

    def cells(self):
        """Each row as (column, value, address or "") triples, in column order: what the
        template renders."""
        for row in self.rows:
            yield [(column, row.get(column.key), row.get(column.link, "") if column.link else "")
                   for column in self.columns]

    def chart_data(self) -> dict | None:
        """The chart as plain JSON for the page's script: labels, and one series per column."""
        if self.chart is None or not self.rows:
            return None
        by_key = {c.key: c for c in self.columns}
        return {
            "kind": self.chart.kind,
            "stacked": self.chart.stacked,
            "labels": [_plain(row.get(self.chart.x)) for row in self.rows],
            "series": [
                {"label": by_key[key].label, "kind": by_key[key].kind,
                 "values": [_number(row.get(key)) for row in self.rows]}
                for key in self.chart.series
            ],
        }

    def dataset(self) -> tablib.Dataset:
        data = tablib.Dataset(headers=[c.label for c in self.columns], title=self.title[:31])
        for row in self.rows:
            data.append([_export_value(c, row.get(c.key)) for c in self.columns])
        return data


def _number(value):
    if value is None:
        return None
    return float(value)


def _plain(value) -> str:
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return "" if value is None else str(value)


def _export_value(column: Column, value):
    if value is None:
        return ""
    if column.kind == "money":
        return Decimal(value).quantize(Decimal("0.01"))
    if column.kind == "percent":
        return round(float(value), 4)
    if column.kind == "int":
        return int(value)
    if column.kind == "number":
        return round(float(value), 4)
    return value if isinstance(value, (datetime.date, datetime.datetime)) else str(value)


def _filename(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "report"


def export_response(request, tables: list[Table]) -> HttpResponse | None:
    """The export a request asks for (`?export=<name>&format=csv|xlsx`), or None when it asks for
    none. An unknown table or format is a 404, not a silently different file."""
    name = request.GET.get("export")
    if not name:
        return None
    fmt = request.GET.get("format", "csv")
    table = next((t for t in tables if t.name == name), None)
    if table is None or fmt not in FORMATS:
        raise Http404("No such table or format to export.")
    data = table.dataset()
    body = data.export(fmt)
    if isinstance(body, str):
        body = body.encode("utf-8")
    response = HttpResponse(body, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{_filename(table.title)}.{fmt}"'
    return response
