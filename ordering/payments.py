"""Card payment through a gateway interface. A payment is named by an idempotency key that the
storefront sets before the charge: charging twice with one key charges once, and the key is how
the storefront later asks what became of a payment (`status`) or gives the money back (`refund`).

The bundled `TestCardGateway` never leaves the machine: it is for development, tests and the
demo, and says so in every reference it issues. Its test cards simulate what a real gateway does
on a bad day (docs/ordering.md, "Test cards")."""

import secrets
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.core.cache import cache
from django.utils.module_loading import import_string


class ChargeOutcome:
    APPROVED = "approved"
    DECLINED = "declined"
    PENDING = "pending"  # accepted for processing: the gateway confirms it later (a callback)


class PaymentState:
    CAPTURED = "captured"
    DECLINED = "declined"
    REFUNDED = "refunded"
    UNKNOWN = "unknown"  # the gateway never saw this key


@dataclass(frozen=True)
class PaymentResult:
    outcome: str
    reference: str
    message: str

    @property
    def approved(self) -> bool:
        return self.outcome == ChargeOutcome.APPROVED


@dataclass(frozen=True)
class PaymentStatus:
    state: str
    reference: str = ""


class PaymentGatewayError(Exception):
    """The gateway's answer did not arrive or made no sense: the outcome of the charge is
    unknown, and the money may have been taken."""


class PaymentGateway(Protocol):
    def charge(
        self, *, amount: Decimal, currency: str, card_number: str, description: str,
        idempotency_key: str,
    ) -> PaymentResult: ...

    def status(self, *, idempotency_key: str) -> PaymentStatus: ...

    def refund(self, *, idempotency_key: str) -> PaymentStatus: ...


def normalise_card_number(raw: str) -> str:
    return "".join(ch for ch in raw or "" if ch.isdigit())


class TestCardGateway:
    """A test gateway; no money moves. Cards: 4242 4242 4242 4242 approved; 4000 0000 0000 0002
    declined; 4000 0000 0000 0077 approved slowly (`ORDERING_TEST_GATEWAY_DELAY_SECONDS`);
    4000 0000 0000 0119 captured, then the call fails as if it timed out; 4000 0000 0000 0341
    captured, but the answer says "pending" and the callback never comes. Any other number is
    refused as unknown. What it captured is kept in the cache (shared by web and worker
    processes), so `status` and `refund` work from a task."""

    __test__ = False  # not a pytest test class

    APPROVED = "4242424242424242"
    DECLINED = "4000000000000002"
    SLOW = "4000000000000077"
    FAILS_AFTER_CHARGE = "4000000000000119"
    LOST_CALLBACK = "4000000000000341"
    CARDS = (APPROVED, DECLINED, SLOW, FAILS_AFTER_CHARGE, LOST_CALLBACK)
    KEEP_SECONDS = 7 * 24 * 3600

    def charge(
        self, *, amount: Decimal, currency: str, card_number: str, description: str,
        idempotency_key: str,
    ) -> PaymentResult:
        number = normalise_card_number(card_number)
        if number not in self.CARDS:
            return PaymentResult(
                ChargeOutcome.DECLINED, "",
                "The test gateway knows only the test card numbers shown on this page.",
            )
        if number == self.DECLINED:
            self._record(idempotency_key, PaymentState.DECLINED, "")
            return PaymentResult(ChargeOutcome.DECLINED, "",
                                 "Your card was declined. Try another card.")
        if number == self.SLOW:
            time.sleep(getattr(settings, "ORDERING_TEST_GATEWAY_DELAY_SECONDS", 3.0))
        known = self.status(idempotency_key=idempotency_key)
        reference = known.reference or f"TEST-{secrets.token_hex(6).upper()}"
        if known.state == PaymentState.UNKNOWN:
            self._record(idempotency_key, PaymentState.CAPTURED, reference)
        if number == self.FAILS_AFTER_CHARGE:
            raise PaymentGatewayError("The test gateway timed out after capturing the payment.")
        if number == self.LOST_CALLBACK:
            return PaymentResult(ChargeOutcome.PENDING, "", "Your payment is being confirmed.")
        return PaymentResult(ChargeOutcome.APPROVED, reference, "Approved (test)")

    def status(self, *, idempotency_key: str) -> PaymentStatus:
        state, reference = cache.get(self._key(idempotency_key), (PaymentState.UNKNOWN, ""))
        return PaymentStatus(state, reference)

    def refund(self, *, idempotency_key: str) -> PaymentStatus:
        known = self.status(idempotency_key=idempotency_key)
        if known.state == PaymentState.CAPTURED:
            self._record(idempotency_key, PaymentState.REFUNDED, known.reference)
            return PaymentStatus(PaymentState.REFUNDED, known.reference)
        return known

    def _record(self, idempotency_key: str, state: str, reference: str) -> None:
        cache.set(self._key(idempotency_key), (state, reference), self.KEEP_SECONDS)

    @staticmethod
    def _key(idempotency_key: str) -> str:
        return f"test-card-gateway:{idempotency_key}"


def payment_gateway() -> PaymentGateway:
    """The configured gateway (`ORDERING_PAYMENT_GATEWAY`), the test gateway by default."""
    path = getattr(settings, "ORDERING_PAYMENT_GATEWAY", "ordering.payments.TestCardGateway")
    return import_string(path)()
