"""Writes to pricing: one transaction each, validated before saving."""
from .imports import ImportReport, price_import
from .price_lists import contract_save, price_list_item_save, price_list_save
from .quotes import (
    QUOTE_TRANSITIONS,
    QuoteError,
    quote_accept,
    quote_answer,
    quote_reject,
    quote_request,
    quote_revise,
)
from .service_tiers import contract_service_tiers_sync

__all__ = [
    "QUOTE_TRANSITIONS",
    "ImportReport",
    "QuoteError",
    "contract_save",
    "contract_service_tiers_sync",
    "price_import",
    "price_list_item_save",
    "price_list_save",
    "quote_accept",
    "quote_answer",
    "quote_reject",
    "quote_request",
    "quote_revise",
]
