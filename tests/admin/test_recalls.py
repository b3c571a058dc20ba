"""The recall screens: raising one in the admin holds open lines through the service; the trace
lists who received the recalled lots and who has the product on open orders, as a table and as
the same rows in CSV; an account manager sees only their organisations' rows and cannot raise or
lift a recall."""

import csv
import datetime
import io
from html.parser import HTMLParser

import pytest

from catalog.models import Product, Recall
from ordering.models import Order, OrderLine, Stock
from ordering.services.recalls import recall_raise
from ordering.services.shipping import ShipmentReport, ShippedLot, order_ship
from tests.factories import OrganisationFactory
from tests.ordering.builders import make_order
from tests.ordering.conftest import build_world


class _Tables(HTMLParser):
    """The cells of each `<table data-trace=…>` on a page, row by row (header first)."""

    def __init__(self):
        super().__init__()
        self.tables, self._table, self._row, self._cell = {}, None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "data-trace" in attrs:
            self._table = self.tables.setdefault(attrs["data-trace"], [])
        elif tag == "tr" and self._table is not None and attrs.get("class") != "empty":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(self._cell.strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._table.append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None


def page_tables(response) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(response.content.decode())
    return parser.tables


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.fixture
def world(db, manager):
    world = build_world()
    world.northgate = OrganisationFactory(name="Northgate Hospitals NHS Trust",
                                          account_manager=manager)
    Stock.objects.filter(product=world.dressing).update(on_hand=100)
    return world


def ship(order, lots):
    line = OrderLine.objects.get(order=order)
    report = ShipmentReport(f"TRK-{order.pk}", tuple(
        ShippedLot(line.pk, lot, quantity) for lot, quantity in lots))
    return order_ship(order=order, actor_buyer=None, report=report)


def shipped_world(world):
    """Shipped: the trust took 8 of lot L-1; Northgate 5 of L-1 and 3 of L-2. Open: one trust
    order waiting for approval and one Northgate order allocated."""
    ship(make_order(world, "allocated", allocated=0), [("L-1", 8)])
    northgate_shipped = make_order(world, "allocated", allocated=0)
    Order.objects.filter(pk=northgate_shipped.pk).update(organisation=world.northgate)
    ship(northgate_shipped, [("L-1", 5), ("L-2", 3)])
    make_order(world, "pending_approval", allocated=0)
    northgate_open = make_order(world, "allocated", allocated=0, quantity=4)
    Order.objects.filter(pk=northgate_open.pk).update(organisation=world.northgate)


def test_staff_raise_a_recall_in_the_admin_through_the_service(client, superuser, world):
    order = make_order(world, "pending_approval", allocated=0)
    client.force_login(superuser)

    response = client.post("/admin/catalog/recall/add/", {
        "product": world.dressing.pk, "kind": "withdrawal", "lot_numbers": "",
        "reason": "Labelling error", "reference": "FSN-2026-020", "effective_date": "2026-12-04",
    })

    assert response.status_code == 302, response.content.decode()[:2000]
    recall = Recall.objects.get()
    assert recall.raised_by == superuser and recall.kind == "withdrawal"
    assert Product.objects.get(pk=world.dressing.pk).regulatory_status == "withdrawn"
    assert OrderLine.objects.get(order=order).recall_id == recall.pk


def test_the_trace_lists_recipients_and_open_orders_and_the_csv_equals_the_table(
    client, superuser, world
):
    shipped_world(world)
    recall = recall_raise(product=world.dressing, kind="recall", reason="Seal defect",
                          reference="FSN-2026-021", effective_date=datetime.date(2026, 12, 4),
                          raised_by=superuser)
    client.force_login(superuser)

    page = client.get(f"/admin/catalog/recall/{recall.pk}/change/")
    shipped = client.get(f"/admin/catalog/recall/{recall.pk}/trace/shipped.csv")
    open_orders = client.get(f"/admin/catalog/recall/{recall.pk}/trace/open.csv")

    assert page.status_code == 200
    tables = page_tables(page)
    assert tables["shipped"] == csv_rows(shipped)
    assert tables["open"] == csv_rows(open_orders)
    assert [(row[0], row[2], row[3]) for row in tables["shipped"][1:]] == [
        ("L-1", "8", "Riverside Test Hospitals NHS Trust"),
        ("L-1", "5", "Northgate Hospitals NHS Trust"),
        ("L-2", "3", "Northgate Hospitals NHS Trust"),
    ]
    assert [(row[2], row[4]) for row in tables["open"][1:]] == [
        ("Riverside Test Hospitals NHS Trust", "8"), ("Northgate Hospitals NHS Trust", "4"),
    ]
    assert all(row[6] == "Recall FSN-2026-021: Seal defect" for row in tables["open"][1:])


def test_a_recall_of_named_lots_traces_only_those_lots(client, superuser, world):
    shipped_world(world)
    recall = recall_raise(product=world.dressing, kind="recall", reason="Seal defect",
                          reference="FSN-2026-022", effective_date=datetime.date(2026, 12, 4),
                          raised_by=superuser, lot_numbers="L-2")
    client.force_login(superuser)

    rows = csv_rows(client.get(f"/admin/catalog/recall/{recall.pk}/trace/shipped.csv"))
    open_rows = csv_rows(client.get(f"/admin/catalog/recall/{recall.pk}/trace/open.csv"))

    assert [(row[0], row[3]) for row in rows[1:]] == [("L-2", "Northgate Hospitals NHS Trust")]
    assert [row[6] for row in open_rows[1:]] == ["Not held", "Not held"]


def test_an_account_manager_sees_only_their_organisations_rows_and_cannot_raise_or_lift(
    client, superuser, manager, world
):
    shipped_world(world)
    recall = recall_raise(product=world.dressing, kind="recall", reason="Seal defect",
                          reference="FSN-2026-023", effective_date=datetime.date(2026, 12, 4),
                          raised_by=superuser)
    client.force_login(manager)

    page = client.get(f"/admin/catalog/recall/{recall.pk}/change/")
    shipped = csv_rows(client.get(f"/admin/catalog/recall/{recall.pk}/trace/shipped.csv"))
    open_rows = csv_rows(client.get(f"/admin/catalog/recall/{recall.pk}/trace/open.csv"))
    add = client.get("/admin/catalog/recall/add/")
    lift = client.post(f"/admin/catalog/recall/{recall.pk}/lift/", {"lift_reason": "No"})

    assert page.status_code == 200
    assert page_tables(page)["shipped"] == shipped
    assert {row[3] for row in shipped[1:]} == {"Northgate Hospitals NHS Trust"}
    assert {row[2] for row in open_rows[1:]} == {"Northgate Hospitals NHS Trust"}
    assert b"Riverside" not in page.content
    assert add.status_code == 403
    assert lift.status_code == 403
    assert Recall.objects.get(pk=recall.pk).is_active


def test_a_superuser_lifts_a_recall_with_a_reason(client, superuser, world):
    recall = recall_raise(product=world.dressing, kind="recall", reason="Seal defect",
                          reference="FSN-2026-024", effective_date=datetime.date(2026, 12, 4),
                          raised_by=superuser)
    client.force_login(superuser)

    refused = client.post(f"/admin/catalog/recall/{recall.pk}/lift/", {"lift_reason": " "})
    still_active = Recall.objects.get(pk=recall.pk).is_active
    lifted = client.post(f"/admin/catalog/recall/{recall.pk}/lift/",
                         {"lift_reason": "No defect found"})

    assert refused.status_code == lifted.status_code == 302
    assert still_active
    assert Recall.objects.get(pk=recall.pk).lift_reason == "No defect found"
    assert Product.objects.get(pk=world.dressing.pk).regulatory_status == "on_market"
