"""`bench_segments` at a small size: it generates the buyers, orders and lines it says, with
totals that add up and the behaviours the analysis needs, refuses a database with data of its
own, and (where the recompute service exists) times every phase."""

from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, F, Max, Min, Q, Sum
from django.utils import timezone

from accounts.models import Organisation, User
from ordering.models import Order, OrderLine
from segments.management.commands.bench_segments import (
    EMAIL_DOMAIN,
    NAME_PREFIX,
    NUMBER_PREFIX,
    _write_section,
)

pytestmark = pytest.mark.django_db

SMALL = ["--buyers", "300", "--lines", "5000"]


def _bench_orders():
    return Order.objects.filter(number__startswith=NUMBER_PREFIX)


def test_it_generates_the_buyers_orders_and_lines_asked_for():
    out = StringIO()

    call_command("bench_segments", *SMALL, "--only-generate", "--keep", stdout=out)

    organisations = Organisation.objects.filter(name__startswith=NAME_PREFIX)
    users = User.objects.filter(email__endswith=EMAIL_DOMAIN)
    consumers = users.filter(memberships__isnull=True)
    orders = _bench_orders()
    assert organisations.count() + consumers.count() == 300
    assert organisations.count() == 90 and users.count() == 300
    assert OrderLine.objects.filter(order__in=orders).count() == 5000
    assert 1000 < orders.count() <= 2600
    assert f"{orders.count():,} orders, 5,000 order lines" in out.getvalue()
    assert "| generate |" in out.getvalue()


def test_generated_totals_add_up_and_consumer_orders_have_no_organisation():
    call_command("bench_segments", *SMALL, "--only-generate", "--keep", stdout=StringIO())

    orders = _bench_orders().annotate(
        net=Sum("lines__line_net"), vat=Sum("lines__line_vat"), gross=Sum("lines__line_gross"))

    cent = Decimal("0.01")
    for order in orders:
        summed = [Decimal(str(v)).quantize(cent) for v in (order.net, order.vat, order.gross)]
        assert [order.total_net, order.total_vat, order.total_gross] == summed, order.number
        assert order.total_net + order.total_vat == order.total_gross
    retail = orders.filter(workflow="retail")
    assert retail.exists() and not retail.filter(organisation__isnull=False).exists()
    assert not retail.filter(placed_by__memberships__isnull=False).exists()
    assert not orders.exclude(workflow="retail").filter(organisation__isnull=True).exists()


def test_buyers_have_cadences_favourite_categories_lapses_and_prospects():
    call_command("bench_segments", *SMALL, "--only-generate", "--keep", stdout=StringIO())
    now = timezone.now()
    orders = _bench_orders().exclude(state="cancelled")

    span = orders.aggregate(first=Min("placed_at"), last=Max("placed_at"))
    per_buyer = orders.values("placed_by").annotate(
        n=Count("id"), last=Max("placed_at"), first=Min("placed_at"))
    buyers = User.objects.filter(email__endswith=EMAIL_DOMAIN)
    never = buyers.exclude(pk__in=_bench_orders().values("placed_by")).count()
    lapsed = [b for b in per_buyer if (now - b["last"]).days > 120 and b["n"] >= 3]
    frequent = [b for b in per_buyer if b["n"] >= 20]
    favourite = (OrderLine.objects.filter(order__in=orders).values("order__placed_by")
                 .annotate(lines=Count("id"), top=Count("product__category")))
    shares = []
    for buyer in favourite.filter(lines__gte=10)[:40]:
        by_category = (OrderLine.objects.filter(order__in=orders,
                                                order__placed_by=buyer["order__placed_by"])
                       .values("product__category").annotate(n=Count("id")).order_by("-n"))
        shares.append(by_category[0]["n"] / buyer["lines"])

    assert (now - span["first"]).days > 600 and (now - span["last"]).days < 7
    assert 10 <= never <= 60
    assert lapsed and frequent
    assert sum(shares) / len(shares) > 0.5  # twelve categories: chance would give about 0.15
    assert OrderLine.objects.filter(order__in=orders).filter(
        Q(quantity__lt=1) | Q(shipped_quantity__gt=F("quantity"))).count() == 0


def test_it_refuses_a_database_with_data_of_its_own():
    Organisation.objects.create(name="Harbour Physiotherapy Clinic", kind="private_clinic")

    with pytest.raises(CommandError, match="--force"):
        call_command("bench_segments", *SMALL, "--only-generate", stdout=StringIO())

    assert not _bench_orders().exists()


def test_without_keep_nothing_of_the_benchmark_stays():
    call_command("bench_segments", *SMALL, "--only-generate", stdout=StringIO())

    assert not _bench_orders().exists()
    assert not Organisation.objects.filter(name__startswith=NAME_PREFIX).exists()


def test_the_results_replace_the_segments_section_of_the_performance_page(tmp_path: Path):
    page = tmp_path / "performance.md"
    page.write_text("## Ordering\n\nfast\n\n## Segments\n\nold table\n\n## Pricing\n\nquick\n")

    _write_section(page, "| phase | seconds |\n")
    _write_section(page, "| phase | seconds |\n")

    text = page.read_text()
    assert text.count("## Segments") == 1 and "old table" not in text
    assert text.index("## Ordering") < text.index("## Segments") < text.index("## Pricing")
    assert "| phase | seconds |" in text and "quick" in text


def test_every_phase_is_timed_when_the_recompute_exists():
    pytest.importorskip("segments.services", reason="segments.services is not on this branch")
    out = StringIO()

    call_command("bench_segments", *SMALL, stdout=out)

    table = out.getvalue()
    for phase in ("generate", "full recompute", "add 1,000 orders", "incremental recompute"):
        assert f"| {phase} |" in table
    assert "Peak memory" in table
    assert not _bench_orders().exists()


def test_reuse_times_the_recompute_over_kept_data_and_rolls_its_work_back():
    from segments.models import BuyerFacts, SegmentRun

    call_command("bench_segments", *SMALL, "--only-generate", "--keep", stdout=StringIO())
    kept = _bench_orders().count()
    with pytest.raises(CommandError, match="--reuse"):
        call_command("bench_segments", *SMALL, stdout=StringIO())
    out = StringIO()

    call_command("bench_segments", "--reuse", stdout=out)

    table = out.getvalue()
    assert "| generate |" not in table
    assert "| full recompute |" in table and "| incremental recompute |" in table
    assert f"300 buyers, 60 products, {kept:,} orders, 5,000 order lines" in table
    assert _bench_orders().count() == kept
    assert not BuyerFacts.objects.exists() and not SegmentRun.objects.exists()


def test_reuse_without_kept_data_says_how_to_keep_some():
    with pytest.raises(CommandError, match="--only-generate --keep"):
        call_command("bench_segments", "--reuse", stdout=StringIO())
