"""Card payment through a gateway interface. The bundled `TestCardGateway` never leaves the
machine: it is for development, tests and the demo, and says so in every reference it issues."""

import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class PaymentResult:
    approved: bool
    reference: str
    message: str


class PaymentGateway(Protocol):
    def charge(
        self, *, amount: Decimal, currency: str, card_number: str, description: str
    ) -> PaymentResult: ...


def normalise_card_number(raw: str) -> str:
    return "".join(ch for ch in raw or "" if ch.isdigit())


class TestCardGateway:
    """A test gateway: 4242 4242 4242 4242 is approved, 4000 0000 0000 0002 is declined, any
    other number is refused as unknown. No money moves."""

    APPROVED = "4242424242424242"
    DECLINED = "4000000000000002"

    def charge(
        self, *, amount: Decimal, currency: str, card_number: str, description: str
    ) -> PaymentResult:
        number = normalise_card_number(card_number)
        if number == self.APPROVED:
            return PaymentResult(True, f"TEST-{secrets.token_hex(6).upper()}", "Approved (test)")
        if number == self.DECLINED:
            return PaymentResult(False, "", "Your card was declined. Try another card.")
        return PaymentResult(
            False, "", "The test gateway knows only the test card numbers shown on this page."
        )


def payment_gateway() -> PaymentGateway:
    """The configured gateway (`ORDERING_PAYMENT_GATEWAY`), the test gateway by default."""
    path = getattr(settings, "ORDERING_PAYMENT_GATEWAY", "ordering.payments.TestCardGateway")
    return import_string(path)()
