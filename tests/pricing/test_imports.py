import io
import os
import time
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse

from pricing.models import PriceImport, PriceImportStatus, PriceListItem, PriceListKind
from pricing.services import price_import
from pricing.tasks import price_hot_folder_scan
from tests.factories import OrganisationFactory, UserFactory

from .conftest import make_contract, make_list, make_product

pytestmark = pytest.mark.django_db


def _csv(*lines) -> io.BytesIO:
    return io.BytesIO(("\n".join(lines) + "\n").encode())


@pytest.fixture
def catalogue():
    return [make_product("GLV-1"), make_product("GLV-2")]


def test_valid_file_is_written_with_tiers_and_rules(catalogue):
    price_list = make_list("list")

    report = price_import(
        file=_csv(
            "sku,min_quantity,unit_price,currency,order_multiple",
            "GLV-1,1,10.00,GBP,1",
            "glv-1,50,9.10,,10",
            "GLV-2,1,3.50,GBP,",
        ),
        price_list=price_list,
        actor=None,
    )

    assert (report.ok, report.rows, report.written) == (True, 3, 3)
    assert list(
        PriceListItem.objects.order_by("product__sku", "min_quantity").values_list(
            "product__sku", "min_quantity", "unit_price", "order_multiple"
        )
    ) == [
        ("GLV-1", 1, Decimal("10.0000"), 1),
        ("GLV-1", 50, Decimal("9.1000"), 10),
        ("GLV-2", 1, Decimal("3.5000"), 1),
    ]


def test_reimport_updates_prices_in_place(catalogue):
    price_list = make_list("list")
    price_import(file=_csv("sku,unit_price", "GLV-1,10.00"), price_list=price_list, actor=None)

    price_import(file=_csv("sku,unit_price", "GLV-1,11.00"), price_list=price_list, actor=None)

    assert PriceListItem.objects.get().unit_price == Decimal("11.00")


def test_one_bad_row_writes_nothing_and_reports_every_problem(catalogue):
    price_list = make_list("list")

    report = price_import(
        file=_csv(
            "sku,unit_price,currency",
            "GLV-1,10.00,GBP",
            "NOPE-9,1.00,GBP",
            "GLV-2,-1,GBP",
            "GLV-2,2.00,USD",
            "GLV-1,abc,GBP",
            "GLV-2,2.00,EUR",
        ),
        price_list=price_list,
        actor=None,
    )

    assert not report.ok and PriceListItem.objects.count() == 0
    assert [(e["row"], e["column"]) for e in report.errors] == [
        (3, "sku"),
        (4, "unit_price"),
        (5, "currency"),
        (6, "unit_price"),
        (7, "currency"),
    ]
    assert "Unknown SKU 'NOPE-9'" in report.errors[0]["message"]


def test_another_organisations_list_is_refused_for_an_account_manager(catalogue):
    manager = UserFactory(is_staff=True)
    ours = OrganisationFactory(account_manager=manager)
    theirs = OrganisationFactory()
    our_list, their_list = (
        make_list("ours", PriceListKind.CONTRACT),
        make_list("theirs", PriceListKind.CONTRACT),
    )
    make_contract(ours, "A-1", our_list)
    make_contract(theirs, "B-1", their_list)

    report = price_import(
        file=_csv(
            "price_list,sku,unit_price",
            "ours,GLV-1,5.00",
            "theirs,GLV-1,1.00",
        ),
        price_list=None,
        actor=manager,
    )

    assert [e["message"] for e in report.errors] == [
        "Price list 'theirs' belongs to an organisation you do not manage."
    ]
    assert PriceListItem.objects.count() == 0


def test_xlsx_file_is_read_like_csv(catalogue):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["sku", "unit_price", "min_quantity"])
    workbook.active.append(["GLV-2", 4.25, 1])
    data = io.BytesIO()
    workbook.save(data)

    report = price_import(file=data, price_list=make_list("list"), actor=None, name="p.xlsx")

    assert report.ok and PriceListItem.objects.get().unit_price == Decimal("4.25")


def test_progress_and_errors_are_stored_on_the_import_record(catalogue):
    price_list = make_list("list")
    record = PriceImport.objects.create(price_list=price_list, file_name="p.csv")

    price_import(
        file=_csv("sku,unit_price", "GLV-1,0"), price_list=price_list, actor=None, record=record
    )

    record.refresh_from_db()
    assert (record.status, record.rows_done, record.rows_total) == (PriceImportStatus.FAILED, 1, 1)
    assert record.errors[0]["message"] == "A price must be more than zero."


def test_hot_folder_moves_files_to_processed_or_failed_with_a_report(catalogue, tmp_path, settings):
    settings.PRICE_IMPORT_HOT_FOLDER = tmp_path
    make_list("list")
    (tmp_path / "list__2026-04.csv").write_text("sku,unit_price\nGLV-1,10.00\n")
    (tmp_path / "list__broken.csv").write_text("sku,unit_price\nNOPE,10.00\n")
    (tmp_path / "nobody.csv").write_text("sku,unit_price\nGLV-1,10.00\n")
    old = time.time() - 60
    for path in tmp_path.iterdir():
        os.utime(path, (old, old))

    price_hot_folder_scan()

    assert (tmp_path / "processed" / "list__2026-04.csv").exists()
    assert (tmp_path / "failed" / "list__broken.csv").exists()
    assert "Unknown SKU" in (tmp_path / "failed" / "list__broken.csv.errors.csv").read_text()
    assert (tmp_path / "failed" / "nobody.csv.errors.csv").exists()
    assert PriceListItem.objects.get().unit_price == Decimal("10.00")


def test_hot_folder_leaves_a_file_still_being_written(catalogue, tmp_path, settings):
    settings.PRICE_IMPORT_HOT_FOLDER = tmp_path
    make_list("list")
    (tmp_path / "list.csv").write_text("sku,unit_price\nGLV-1,10.00\n")

    price_hot_folder_scan()

    assert (tmp_path / "list.csv").exists() and PriceListItem.objects.count() == 0


def test_admin_import_preview_refuses_a_file_with_a_bad_row(client, catalogue):
    from import_export.formats.base_formats import CSV

    make_list("list")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    upload = io.BytesIO(
        b"price_list,sku,min_quantity,unit_price\nlist,GLV-1,1,10.00\nlist,NOPE,1,2\n"
    )
    upload.name = "prices.csv"

    formats = admin.site._registry[PriceListItem].get_import_formats()

    response = client.post(
        reverse("admin:pricing_pricelistitem_import"),
        {
            "format": formats.index(CSV),
            "import_file": upload,
            "resource": 0,
        },
    )

    page = response.content.decode()
    assert "Unknown SKU &#x27;NOPE&#x27;" in page or "Unknown SKU 'NOPE'" in page
    assert reverse("admin:pricing_pricelistitem_process_import") not in page
    assert PriceListItem.objects.count() == 0


def test_admin_upload_runs_the_background_import(client, catalogue, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    price_list = make_list("list")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    upload = io.BytesIO(b"sku,unit_price\nGLV-1,10.00\nGLV-2,2.00\n")
    upload.name = "prices.csv"

    client.post(
        reverse("admin:pricing_pricelist_import_file", args=[price_list.pk]), {"file": upload}
    )

    record = PriceImport.objects.get()
    assert (record.status, record.rows_done) == (PriceImportStatus.DONE, 2)
    assert PriceListItem.objects.count() == 2
