"""Background price imports: a file uploaded in admin, and the hot folder an ERP drops files in."""
import csv
import logging
import os
import shutil
import time
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .models import PriceImport, PriceImportStatus, PriceList
from .services import contract_service_tiers_sync, price_import

logger = logging.getLogger(__name__)

PRICE_FILE_SUFFIXES = {".csv", ".xlsx"}
SETTLE_SECONDS = 5


@shared_task
def price_import_run(import_id: int) -> dict:
    """Import the file of one PriceImport record, keeping its progress and error report."""
    record = PriceImport.objects.select_related("price_list", "created_by").get(pk=import_id)
    try:
        with open(record.file_path, "rb") as handle:
            report = price_import(
                file=handle, price_list=record.price_list, actor=record.created_by,
                name=record.file_name, record=record,
            )
    except Exception as exc:
        PriceImport.objects.filter(pk=import_id).update(
            status=PriceImportStatus.FAILED, finished_at=timezone.now(),
            errors=[{"row": 0, "column": "", "message": f"The import stopped: {exc}"}],
        )
        raise
    return {"rows": report.rows, "written": report.written, "errors": report.error_count}


def _write_error_report(path: Path, errors: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["row", "column", "message"])
        writer.writeheader()
        writer.writerows(errors)


def _price_list_for(file_name: str) -> PriceList | None:
    """A hot-folder file names its price list: `<list code>.csv` or `<code>__<anything>.csv`."""
    code = Path(file_name).stem.split("__", 1)[0]
    return PriceList.objects.filter(code=code).first()


def hot_folder_import(path: Path, folder: Path) -> PriceImport:
    """Import one file from the hot folder and move it to processed/ or failed/ (with
    `<file>.errors.csv` beside it)."""
    processed, failed = folder / "processed", folder / "failed"
    price_list = _price_list_for(path.name)
    if price_list is None:
        failed.mkdir(parents=True, exist_ok=True)
        target = failed / path.name
        shutil.move(path, target)
        _write_error_report(failed / f"{path.name}.errors.csv", [{
            "row": 0, "column": "file name",
            "message": "No price list has the code this file is named after.",
        }])
        raise ValueError(f"{path.name}: no price list for this file name")
    record = PriceImport.objects.create(
        price_list=price_list, file_name=path.name, file_path=str(path), source="hot folder",
    )
    price_import_run.apply(args=[record.pk])
    record.refresh_from_db()
    ok = record.status == PriceImportStatus.DONE
    target_dir = processed if ok else failed
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / path.name
    shutil.move(path, target)
    if not ok:
        _write_error_report(target_dir / f"{path.name}.errors.csv", record.errors)
    PriceImport.objects.filter(pk=record.pk).update(file_path=str(target))
    return record


@shared_task
def price_hot_folder_scan() -> list[str]:
    """Import every settled price file in the hot folder. A file is claimed by renaming it into
    working/ first, so two workers never import the same file."""
    folder = Path(settings.PRICE_IMPORT_HOT_FOLDER)
    working = folder / "working"
    if not folder.is_dir():
        return []
    working.mkdir(exist_ok=True)
    done = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.suffix.lower() not in PRICE_FILE_SUFFIXES:
            continue
        if time.time() - path.stat().st_mtime < SETTLE_SECONDS:
            continue
        claimed = working / path.name
        try:
            os.rename(path, claimed)
        except FileNotFoundError:
            continue
        try:
            hot_folder_import(claimed, folder)
        except Exception:
            logger.exception("Price file %s failed", path.name)
        done.append(path.name)
    return done


@shared_task
def contract_service_tiers_day_start() -> int:
    """Each morning: contracts that started or ended overnight change the service tier."""
    return contract_service_tiers_sync()
