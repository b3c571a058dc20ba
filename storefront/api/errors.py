"""One JSON error format for every 4xx and 5xx answer of the API:

    {"error": {"code": "...", "message": "...", "fields": {"lines.0.sku": ["..."]}}}

Domain exceptions (a price rule, a quote state, a model's validation) become 422s with their code.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from ordering.errors import OrderError
from pricing.engine import PricingError
from pricing.services import QuoteError

logger = logging.getLogger(__name__)


class DomainError(exceptions.APIException):
    """A request that is well formed but breaks a business rule the caller can act on."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "unprocessable"
    default_detail = "The request breaks a business rule."

    def __init__(self, code: str, message: str, fields: dict | None = None):
        super().__init__(detail=message, code=code)
        self.code = code
        self.fields = fields or {}


class Conflict(DomainError):
    """The request was fine when written but the order or the prices moved on since (409)."""

    status_code = status.HTTP_409_CONFLICT


class PriceChanged(Conflict):
    def __init__(self, message: str, fields: dict | None = None):
        super().__init__("price_changed", message, fields)


# Codes of OrderError that mean "the world moved on", not "the request is wrong".
ORDER_CONFLICTS = frozenset({"price_changed", "not_allowed", "out_of_stock"})


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested validation detail as {"lines.0.quantity": ["message", …]}."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for name, inner in detail.items():
            if name == "non_field_errors" and prefix:
                flat.update(_flatten(inner, prefix))  # an error of the list or object itself
            else:
                flat.update(_flatten(inner, f"{prefix}.{name}" if prefix else str(name)))
        return flat
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        flat = {}
        for index, inner in enumerate(detail):
            if inner:
                flat.update(_flatten(inner, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    items = detail if isinstance(detail, list) else [detail]
    return {prefix or "non_field_errors": [str(item) for item in items]}


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = "The request body is too large."


class BadRequest(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "bad_request"
    default_detail = "The request is malformed."


def _suspicious(exc) -> exceptions.APIException | None:
    """Django's refusals of a request it will not read (too large, too many fields or files)."""
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge()
    if isinstance(exc, TooManyFieldsSent):
        return BadRequest("The request has more fields (query or body) than the API takes.",
                          code="too_many_fields")
    if isinstance(exc, TooManyFilesSent):
        return BadRequest("The request has more files than the API takes.", code="too_many_files")
    if isinstance(exc, SuspiciousOperation):
        return BadRequest()
    return None


def _domain(exc) -> exceptions.APIException | None:
    """Translate the domain exceptions of the services and rules into API exceptions."""
    if isinstance(exc, PricingError):
        return DomainError(exc.code, exc.message)
    if isinstance(exc, QuoteError):
        if exc.code == "not_found":
            return exceptions.NotFound(exc.message)
        return DomainError(exc.code, exc.message)
    if isinstance(exc, OrderError):
        if exc.code == "forbidden":
            return exceptions.PermissionDenied(exc.message)
        fields = {f"lines.{row}": [message] for row, message in exc.rows.items()}
        if exc.field:
            fields[exc.field] = [exc.message]
        kind = Conflict if exc.code in ORDER_CONFLICTS else DomainError
        return kind(exc.code, exc.message, fields)
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {}
        message = " ".join(exc.messages) or "The request breaks a business rule."
        return DomainError("invalid", message, {k: list(v) for k, v in fields.items()})
    return None


def _code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    return exc.default_code


def api_exception_handler(exc, context):
    """DRF's exception handler, answering in the one error format (never an HTML page)."""
    exc = _domain(exc) or _suspicious(exc) or exc
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled API error", exc_info=exc)
        set_rollback()
        return Response(
            error_body("server_error", "Something went wrong on our side; it has been logged."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, exceptions.ValidationError):
        body = error_body("invalid", "The request is not valid.", _flatten(exc.detail))
    elif isinstance(exc, DomainError):
        body = error_body(exc.code, str(exc.detail), exc.fields)
    else:
        body = error_body(_code(exc), str(exc.detail))
    response.data = body
    return response
