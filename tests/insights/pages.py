"""Reading the dashboard pages as a person (the table cells) and their exports as a spreadsheet."""

import csv
import datetime
import io
from decimal import Decimal
from html.parser import HTMLParser

from insights.templatetags.insights import cell


class _Rows(HTMLParser):
    """The text of each body row's cells, in order."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag in ("td", "th") and self._in_body:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_body = False
        elif tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table_rows(html: str, name: str) -> list[list[str]]:
    """The body rows of the table named `name` on a dashboard page, as shown."""
    start = html.index(f'id="table-{name}"')
    section = html[start:html.index("</section>", start)]
    parser = _Rows()
    parser.feed(section)
    return parser.rows


def csv_rows(response) -> tuple[list[str], list[list[str]]]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    return rows[0], rows[1:]


def as_shown(value: str, kind: str) -> str:
    """A CSV value as the page shows it."""
    if value == "":
        return "—"
    if kind == "money":
        return cell(Decimal(value), kind)
    if kind in ("percent", "number"):
        return cell(float(value), kind)
    if kind == "int":
        return cell(int(value), kind)
    if kind == "date":
        return cell(datetime.date.fromisoformat(value[:10]), kind)
    return value
