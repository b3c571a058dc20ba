"""The streaming price importer: CSV or XLSX rows into price-list items, all or nothing.

One pass reads and checks every row (unknown SKU, price not above zero, wrong currency, a list the
actor may not edit …), records progress and spools the checked rows to a temporary file. Only a
file without errors is written, in one transaction: PostgreSQL copies the spool into a temporary
table and upserts it in one statement, other databases upsert in batches. A repeated (list,
product, minimum quantity) row: the last wins.
"""
import csv
import io
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction
from django.utils import timezone

from catalog.models import Product
from segments.versioning import bump_rules_version

from ..models import Currency, PriceImport, PriceImportStatus, PriceList, PriceListItem
from ..selectors import price_lists_editable_by

REQUIRED = ("sku", "unit_price")
KNOWN = (*REQUIRED, "min_quantity", "currency", "price_list", "min_order_qty", "max_order_qty",
         "order_multiple")
MAX_REPORTED_ERRORS = 1000
PROGRESS_EVERY = 20_000
BATCH = 2_000
MAX_PRICE = Decimal("99999999.9999")
CURRENCIES = frozenset(Currency.values)


@dataclass
class ImportReport:
    rows: int = 0
    written: int = 0
    error_count: int = 0
    errors: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def add_error(self, row: int, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"row": row, "column": column, "message": message})


def _text_rows(file) -> Iterator[list]:
    file.seek(0)
    raw = file.read(0)
    stream = io.TextIOWrapper(file, encoding="utf-8-sig", newline="") if isinstance(
        raw, bytes) else file
    try:
        yield from csv.reader(stream)
    finally:
        if stream is not file:
            stream.detach()


def _xlsx_rows(file) -> Iterator[list]:
    from openpyxl import load_workbook

    file.seek(0)
    workbook = load_workbook(file, read_only=True, data_only=True)
    try:
        for values in workbook.active.iter_rows(values_only=True):
            yield ["" if v is None else v for v in values]
    finally:
        workbook.close()


def _raw_rows(file, name: str) -> Iterator[list]:
    return _xlsx_rows(file) if name.lower().endswith(".xlsx") else _text_rows(file)


def count_rows(file, name: str) -> int:
    """Data rows in the file (without the header), for progress."""
    if name.lower().endswith(".xlsx"):
        return max(sum(1 for _ in _xlsx_rows(file)) - 1, 0)
    file.seek(0)
    empty = file.read(0)
    newline = b"\n" if isinstance(empty, bytes) else "\n"
    lines = sum(chunk.count(newline) for chunk in iter(lambda: file.read(1 << 20), empty))
    return max(lines - 1, 0)


def _int(value, name, row, report, *, default=None, minimum=1):
    text = str(value).strip() if value is not None else ""
    if text == "":
        return default
    if text.isdigit():
        number = int(text)
        if number >= minimum:
            return number
    try:
        number = int(Decimal(text))
        if number != Decimal(text):
            raise ValueError
    except (InvalidOperation, ValueError):
        report.add_error(row, name, f"{name} must be a whole number, not {text!r}.")
        return None
    if number < minimum:
        report.add_error(row, name, f"{name} must be at least {minimum}.")
        return None
    return number


class _Lists:
    """Price lists a file may write to, by code, with the actor's right to edit them."""

    def __init__(self, actor, default: PriceList | None):
        self.default = default
        self.editable = None if actor is None else price_lists_editable_by(actor)
        self.known: dict[str, tuple[int, str, bool] | None] = {}

    def get(self, code: str) -> tuple[int, str, bool] | None:
        if code not in self.known:
            price_list = PriceList.objects.filter(code=code).first()
            allowed = price_list is not None and (
                self.editable is None or self.editable.filter(pk=price_list.pk).exists()
            )
            self.known[code] = None if price_list is None else (
                price_list.pk, price_list.currency, allowed
            )
        return self.known[code]


class _Lookups:
    """Products by SKU and price lists by code, loaded before the rows are read, so no query runs
    while rows stream into the database."""

    def __init__(self, actor, price_list):
        self.skus = dict(Product.objects.values_list("sku", "pk"))
        self.lists = _Lists(actor, price_list)


def _parsed(file, name, lookups: _Lookups, price_list, report: ImportReport, on_progress=None):
    """Yield (row number, item tuple) for every valid row; record errors for the others."""
    rows = _raw_rows(file, name)
    header = [str(h).strip().lower() for h in next(rows, [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing or ("price_list" not in header and price_list is None):
        report.add_error(1, ",".join(missing) or "price_list",
                         "The header needs columns: sku, unit_price (and price_list when no list "
                         "is chosen).")
        return
    index = {h: i for i, h in enumerate(header) if h in KNOWN}
    skus, lists = lookups.skus, lookups.lists
    for number, values in enumerate(rows, start=2):
        if not any(str(v).strip() for v in values):
            continue
        report.rows += 1
        if on_progress and report.rows % PROGRESS_EVERY == 0:
            on_progress(report.rows)
        cell = {h: values[i] if i < len(values) else "" for h, i in index.items()}
        item = _checked_row(number, cell, skus, lists, report)
        if item is not None:
            yield number, item


def _checked_row(number, cell, skus, lists, report):
    errors_before = report.error_count
    sku = str(cell["sku"]).strip().upper()
    product_id = skus.get(sku)
    if product_id is None:
        report.add_error(number, "sku", f"Unknown SKU {sku!r}." if sku else "SKU is missing.")
    code = str(cell.get("price_list", "") or "").strip()
    if code:
        target = lists.get(code)
        if target is None:
            report.add_error(number, "price_list", f"Unknown price list {code!r}.")
        elif not target[2]:
            report.add_error(
                number, "price_list",
                f"Price list {code!r} belongs to an organisation you do not manage.",
            )
    else:
        default = lists.default
        target = (default.pk, default.currency, True) if default else None
    text = str(cell["unit_price"]).strip().replace(",", "").lstrip("£€")
    try:
        price = Decimal(text)
        if not price.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        report.add_error(number, "unit_price", f"Not a price: {cell['unit_price']!r}.")
        price = None
    if price is not None and price <= 0:
        report.add_error(number, "unit_price", "A price must be more than zero.")
    elif price is not None and (price > MAX_PRICE or len(text.partition(".")[2]) > 4):
        report.add_error(number, "unit_price", "Prices have at most 8 digits and 4 decimals.")
    currency = str(cell.get("currency", "") or "").strip().upper()
    if currency and currency not in CURRENCIES:
        report.add_error(number, "currency", f"Unknown currency {currency!r}: use GBP or EUR.")
    elif currency and target is not None and target[2] and currency != target[1]:
        report.add_error(
            number, "currency", f"This price list is in {target[1]}, the row says {currency}."
        )
    min_quantity = _int(cell.get("min_quantity"), "min_quantity", number, report, default=1)
    min_order = _int(cell.get("min_order_qty"), "min_order_qty", number, report, default=1)
    max_order = _int(cell.get("max_order_qty"), "max_order_qty", number, report)
    multiple = _int(cell.get("order_multiple"), "order_multiple", number, report, default=1)
    if max_order is not None and min_order is not None and max_order < min_order:
        report.add_error(number, "max_order_qty", "The maximum order is below the minimum.")
    if report.error_count != errors_before or target is None:
        return None
    return (target[0], product_id, min_quantity, price, min_order, max_order, multiple)


def _spool_line(number: int, item: tuple) -> str:
    return "\t".join(r"\N" if v is None else str(v) for v in (number, *item)) + "\n"


def _spooled(spool) -> Iterator[tuple[int, tuple]]:
    spool.seek(0)
    for line in spool:
        n, list_id, product_id, min_q, price, min_o, max_o, multiple = line.rstrip("\n").split("\t")
        yield int(n), (int(list_id), int(product_id), int(min_q), Decimal(price), int(min_o),
                       None if max_o == r"\N" else int(max_o), int(multiple))


def _write_postgresql(spool) -> int:
    written = 0
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE pricing_import_rows (n bigint, price_list_id bigint, "
            "product_id bigint, min_quantity integer, unit_price numeric(12,4), "
            "min_order_qty integer, max_order_qty integer, order_multiple integer) ON COMMIT DROP"
        )
        spool.seek(0)
        with cursor.copy("COPY pricing_import_rows FROM STDIN") as copy:
            while block := spool.read(1 << 20):
                copy.write(block)
                written += block.count("\n")
        cursor.execute(
            "INSERT INTO pricing_pricelistitem (price_list_id, product_id, min_quantity, "
            "unit_price, min_order_qty, max_order_qty, order_multiple) "
            "SELECT DISTINCT ON (price_list_id, product_id, min_quantity) price_list_id, "
            "product_id, min_quantity, unit_price, min_order_qty, max_order_qty, order_multiple "
            "FROM pricing_import_rows ORDER BY price_list_id, product_id, min_quantity, n DESC "
            "ON CONFLICT (price_list_id, product_id, min_quantity) DO UPDATE SET "
            "unit_price = EXCLUDED.unit_price, min_order_qty = EXCLUDED.min_order_qty, "
            "max_order_qty = EXCLUDED.max_order_qty, order_multiple = EXCLUDED.order_multiple, "
            "updated_at = now()"
        )
        cursor.execute("DROP TABLE pricing_import_rows")
    return written


def _write_batches(spool) -> int:
    written, batch = 0, []
    fields = ["unit_price", "min_order_qty", "max_order_qty", "order_multiple", "updated_at"]

    def flush():
        PriceListItem.objects.bulk_create(
            batch, update_conflicts=True, update_fields=fields,
            unique_fields=["price_list", "product", "min_quantity"],
        )

    for _, (list_id, product_id, min_q, price, min_o, max_o, multiple) in _spooled(spool):
        batch.append(PriceListItem(
            price_list_id=list_id, product_id=product_id, min_quantity=min_q, unit_price=price,
            min_order_qty=min_o, max_order_qty=max_o, order_multiple=multiple,
        ))
        written += 1
        if len(batch) >= BATCH:
            flush()
            batch = []
    if batch:
        flush()
    return written


def _progress(record: PriceImport | None, **values) -> None:
    if record is not None:
        PriceImport.objects.filter(pk=record.pk).update(**values)


def price_import(
    *, file, price_list: PriceList | None, actor, name: str = "", record: PriceImport | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Check every row of a price file, then write all of it or nothing. `actor` None is the
    system (hot folder); a staff actor may write only the lists they may edit. Progress and the
    error report go on `record` when one is given."""
    name = name or os.path.basename(getattr(file, "name", "") or "prices.csv")
    report = ImportReport()
    _progress(record, status=PriceImportStatus.CHECKING, rows_total=count_rows(file, name))
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        for number, item in _parsed(file, name, _Lookups(actor, price_list), price_list, report,
                                    on_progress=lambda n: _progress(record, rows_done=n)):
            spool.write(_spool_line(number, item))
        if report.ok and not dry_run:
            _progress(record, status=PriceImportStatus.WRITING, rows_done=report.rows)
            writer = _write_postgresql if connection.vendor == "postgresql" else _write_batches
            with transaction.atomic():
                report.written = writer(spool)
                transaction.on_commit(bump_rules_version)
    if not report.ok or dry_run:
        _progress(
            record, rows_done=report.rows, errors=report.errors, finished_at=timezone.now(),
            status=PriceImportStatus.FAILED if not report.ok else PriceImportStatus.DONE,
        )
        return report
    _progress(record, status=PriceImportStatus.DONE, rows_done=report.rows, errors=[],
              finished_at=timezone.now())
    return report
