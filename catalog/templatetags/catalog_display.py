"""Display helpers for catalogue pages. They format values already resolved by the rules; they
never compute a price or decide visibility."""

from decimal import Decimal

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

register = template.Library()

CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€"}


@register.filter
def money(amount: Decimal | None, currency: str = "GBP") -> str:
    """`Decimal("1234.5"), "GBP"` → "£1,234.50"."""
    if amount is None:
        return ""
    text = intcomma(f"{Decimal(amount):.2f}")
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


@register.filter
def yes_no(value: bool) -> str:
    return "Yes" if value else "No"


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (None removes one)."""
    params = context["request"].GET.copy()
    for name, value in changes.items():
        params.pop(name, None)
        if value is not None:
            params[name] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"
