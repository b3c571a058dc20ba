"""The aggregates follow the orders: a placed order, a cancellation and a segment recompute each
queue a refresh once their transaction commits; with a broker, a burst of changes queues one."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

import insights.tasks  # noqa: F401 -- registers the tasks the order services queue by name
from insights.models import AggregatesState, BuyerDay, SalesDay
from ordering import notifications
from ordering.services.carts import cart_add
from ordering.services.checkout import DeliveryAddress, checkout_retail, checkout_review
from ordering.services.transitions import order_transition
from segments.services import recompute_segments

HOME = DeliveryAddress("Pat Patient", "12 Denmark Hill, London", "se5 9rs")


def _place(world, django_capture_on_commit_callbacks):
    patient = world.buyer("patient")
    cart_add(buyer=patient, product_id=world.frame.pk, quantity=2)
    token = checkout_review(buyer=patient).price_token
    with django_capture_on_commit_callbacks(execute=True):
        return checkout_retail(buyer=patient, address=HOME, card_number="4242 4242 4242 4242",
                               expected_token=token)


def test_a_placed_order_shows_in_the_aggregates_once_it_commits(
    ordering_world, django_capture_on_commit_callbacks,
):
    world = ordering_world
    order = _place(world, django_capture_on_commit_callbacks)

    row = BuyerDay.objects.get(user=world.buyer("patient").user)
    assert (row.orders, row.units, row.revenue) == (1, 2, order.total_net)
    assert row.list_value == Decimal("100.00")  # the retail list's 50.00 net, twice


def test_a_cancelled_order_leaves_the_aggregates_once_it_commits(
    ordering_world, django_capture_on_commit_callbacks,
):
    world = ordering_world
    order = _place(world, django_capture_on_commit_callbacks)
    AggregatesState.objects.update(refreshed_at=order.updated_at + datetime.timedelta(minutes=6))

    with django_capture_on_commit_callbacks(execute=True):
        order_transition(order=order, action="cancel", actor_buyer=world.buyer("patient"))

    assert not SalesDay.objects.filter(user=world.buyer("patient").user).exists()


@pytest.mark.usefixtures("ordering_world")
def test_a_segment_recompute_refreshes_the_aggregates_after_it(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run = recompute_segments(full=True)

    assert "aggregates" in run.timings
    assert callbacks and AggregatesState.objects.get().refreshed_at is not None


def test_with_a_broker_a_burst_of_order_changes_queues_one_refresh(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    queued = []

    class Signature:
        def __init__(self, name):
            self.name = name

        def apply_async(self, **options):  # the broker is what leaves the machine
            queued.append((self.name, options))

    monkeypatch.setattr(notifications.app, "signature", Signature)
    for _ in range(3):
        notifications._queue_once_a_while("insights.tasks.refresh_aggregates")

    assert queued == [("insights.tasks.refresh_aggregates",
                       {"countdown": settings.ORDER_CHANGED_DEBOUNCE_SECONDS})]


@pytest.mark.django_db
def test_the_command_rebuilds_or_refreshes_and_says_how_long_it_took(capsys):
    call_command("rebuild_sales_aggregates")
    call_command("rebuild_sales_aggregates", "--incremental")

    out = capsys.readouterr().out
    assert "Sales aggregates rebuilt: 0 sales rows" in out
    assert "Sales aggregates refreshed:" in out and " s." in out


@pytest.mark.django_db(transaction=True)
def test_a_refresh_queued_while_another_runs_does_nothing_and_a_later_one_catches_up(
    requires_postgres,
):
    import threading

    from django.db import connections, transaction

    from insights.services.aggregates import refresh
    from insights.tasks import refresh_aggregates

    refresh()  # the first refresh rebuilds and leaves the state row
    holding, release = threading.Event(), threading.Event()

    def hold_the_lock():
        with transaction.atomic():
            AggregatesState.objects.select_for_update().get()
            holding.set()
            release.wait(10)
        connections.close_all()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    holding.wait(10)
    try:
        assert refresh_aggregates() == "skipped: a refresh is running"
    finally:
        release.set()
        holder.join()

    assert refresh_aggregates().startswith("refresh:")
