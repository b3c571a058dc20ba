"""An API order naming a recalled product is refused with the recall's reason, and writes
nothing."""

import datetime

import pytest

from ordering.models import Order, Stock
from ordering.services.recalls import recall_raise
from tests.api.test_orders import client_for, order_body, place
from tests.factories import UserFactory
from tests.ordering.conftest import build_world


@pytest.fixture
def world(db):
    return build_world()


def test_an_api_order_for_a_recalled_product_is_refused_with_the_reason(world):
    staff = UserFactory(email="vigilance@maker.test", is_staff=True, is_superuser=True)
    recall_raise(product=world.dressing, kind="recall", reason="Sterile barrier may be breached",
                 reference="FSN-2026-014", effective_date=datetime.date(2026, 12, 1),
                 raised_by=staff)

    response = place(client_for(world, "buyer"), order_body(world))

    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"lines.0.sku": [
        "WC-10001 cannot be ordered: Recall FSN-2026-014: Sterile barrier may be breached."
    ]}
    assert Order.objects.count() == 0
    assert Stock.objects.get(product=world.gloves).reserved == 0


def test_an_api_order_shows_why_a_line_is_held(world):
    staff = UserFactory(email="vigilance@maker.test", is_staff=True, is_superuser=True)
    client = client_for(world, "buyer")
    placed = place(client, order_body(world)).json()["orders"][0]

    recall_raise(product=world.dressing, kind="withdrawal", reason="Labelling error",
                 reference="FSN-2026-030", effective_date=datetime.date(2026, 12, 1),
                 raised_by=staff)
    order = client.get(f"/api/v1/orders/{placed['number']}/").json()

    lines = {line["sku"]: line for line in order["lines"]}
    assert lines["WC-10001"]["held_reason"] == "Withdrawal FSN-2026-030: Labelling error"
    assert lines["WC-10001"]["allocated_quantity"] == 0
    assert lines["GL-30001"]["held_reason"] == ""
