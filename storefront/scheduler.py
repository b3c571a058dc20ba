"""The embedded scheduler: Celery beat's schedule, run inside the web process when there is no
broker (`make run`). Each entry of `CELERY_BEAT_SCHEDULE` runs on its interval or crontab in one
background thread, in-process like every other task of the embedded set-up; so the hot-folder price
imports, the webhook sweep, card-payment settling, territory day starts and the nightly segment
recompute happen there exactly as they do under a worker with beat.

Production runs `celery beat` (or a worker with `-B`) instead; this thread starts only when the
embedded set-up asks for it (`manage.py run_embedded`).
"""

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery import current_app
from celery.schedules import BaseSchedule, schedule
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

log = logging.getLogger("storefront.scheduler")


@dataclass
class Entry:
    name: str
    task: str
    schedule: BaseSchedule
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    last_run_at: datetime | None = None
    runs: int = 0
    failures: int = 0


def load_tasks() -> None:
    """Import every app's tasks module, as a worker does at start: in a web process only the ones
    something imported are registered."""
    current_app.loader.import_default_modules()


def entries_from(beat_schedule: dict, *, now: datetime, first_delay: float) -> list[Entry]:
    """One entry per beat schedule item. An interval entry first runs `first_delay` seconds after
    `now`, not at once, so the server answers before the first sweep; a crontab entry waits for
    its next time."""
    entries = []
    for name, item in sorted(beat_schedule.items()):
        every = item["schedule"]
        if isinstance(every, int | float | timedelta):
            seconds = every.total_seconds() if isinstance(every, timedelta) else float(every)
            plan = schedule(timedelta(seconds=seconds), app=current_app)
            last = now - timedelta(seconds=max(seconds - first_delay, 0))
        else:
            plan, last = every, now
        entries.append(Entry(
            name=name, task=item["task"], schedule=plan, args=tuple(item.get("args", ())),
            kwargs=dict(item.get("kwargs", {})), last_run_at=last,
        ))
    return entries


class EmbeddedScheduler:
    """Runs due entries one after another; `tick(now)` is one pass, `start()` a daemon thread
    that ticks until `stop()`."""

    def __init__(self, beat_schedule: dict | None = None, *, first_delay: float = 5.0):
        load_tasks()
        now = timezone.now()
        self.entries = entries_from(
            settings.CELERY_BEAT_SCHEDULE if beat_schedule is None else beat_schedule,
            now=now, first_delay=first_delay,
        )
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def due_at(entry: Entry) -> datetime:
        """When the entry is next due: its last run plus its interval, or the crontab's next
        time after its last run."""
        return timezone.now() + entry.schedule.remaining_estimate(entry.last_run_at)

    def tick(self, now: datetime | None = None) -> float:
        """Run every entry due at `now`; return the seconds until the next one is due (≤ 30)."""
        now = now or timezone.now()
        wait = 30.0
        for entry in self.entries:
            if self.due_at(entry) <= now:
                self._run(entry, now)
            wait = min(wait, (self.due_at(entry) - now).total_seconds())
        return max(wait, 0.5)

    def _run(self, entry: Entry, now: datetime) -> None:
        entry.last_run_at = now
        entry.runs += 1
        started = time.monotonic()
        try:
            current_app.tasks[entry.task].apply(args=entry.args, kwargs=entry.kwargs, throw=True)
        except Exception:
            entry.failures += 1
            log.exception("scheduler: %s (%s) failed", entry.name, entry.task)
        else:
            log.info("scheduler: ran %s (%s) in %.2f s", entry.name, entry.task,
                     time.monotonic() - started)
        finally:
            close_old_connections()

    def _loop(self) -> None:
        log.info("scheduler: %d scheduled jobs: %s", len(self.entries),
                 ", ".join(e.name for e in self.entries))
        while not self._stopped.is_set():
            wait = self.tick()
            self._stopped.wait(wait)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="embedded-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
