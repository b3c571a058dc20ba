"""The demo world that `make run` loads and every capability extends: organisations, people,
segments, catalogues, prices, territory rights and order history. Loading is idempotent and
all-or-nothing."""
from dataclasses import dataclass

from django.db import transaction

from accounts.models import Organisation
from segments.models import Segment

from .accounts import build_accounts
from .catalog import load_catalog
from .history import load_history
from .merchandising import load_merchandising
from .ordering import load_ordering
from .people import DEMO_PASSWORD
from .pricing import load_pricing
from .segments import build_segments
from .service_levels import load_service_levels, load_support_plan
from .territories import load_territories

__all__ = ["DEMO_PASSWORD", "DemoWorld", "load_demo_world"]


@dataclass(frozen=True)
class DemoWorld:
    organisations: dict[str, Organisation]
    segments: dict[str, Segment]


def load_demo_world() -> DemoWorld:
    """Create or bring up to date the whole demo world in one transaction."""
    with transaction.atomic():
        organisations = build_accounts()
        segments = build_segments(organisations)
        load_catalog()
        load_support_plan()
        load_pricing()
        load_territories()
        load_ordering()
        load_history()
        load_merchandising()
        load_service_levels()
    return DemoWorld(organisations=organisations, segments=segments)
