"""A gateway for tests that wraps the bundled test gateway and records, at every charge, whether a
database transaction was open and whether the stock row of `probe_product_id` could be updated
by another connection meanwhile (it is not locked)."""

import threading

from django.db import OperationalError, connection, transaction
from django.db.models import F

from ordering.models import Stock
from ordering.payments import TestCardGateway


class ProbeGateway(TestCardGateway):
    in_atomic_block: list = []
    stock_unlocked: list = []
    probe_product_id: int | None = None

    @classmethod
    def reset(cls, probe_product_id=None):
        cls.in_atomic_block = []
        cls.stock_unlocked = []
        cls.probe_product_id = probe_product_id

    def charge(self, **kwargs):
        type(self).in_atomic_block.append(connection.in_atomic_block)
        if self.probe_product_id is not None:
            type(self).stock_unlocked.append(_update_stock_elsewhere(self.probe_product_id))
        return super().charge(**kwargs)


def _update_stock_elsewhere(product_id) -> bool:
    """Update the product's stock row from another connection, waiting at most 2 s for a lock."""
    outcome = []

    def update():
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '2s'")
                Stock.objects.filter(product_id=product_id).update(on_hand=F("on_hand"))
            outcome.append(True)
        except OperationalError:
            outcome.append(False)
        finally:
            connection.close()

    thread = threading.Thread(target=update)
    thread.start()
    thread.join()
    return outcome == [True]
