"""How report cells read: money as £1,234.50, fractions as percentages, changes with a sign."""

from decimal import Decimal

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

register = template.Library()


@register.filter
def cell(value, kind: str) -> str:
    if value is None or value == "":
        return "—"
    if kind == "money":
        amount = Decimal(value).quantize(Decimal("0.01"))
        sign = "−" if amount < 0 else ""
        return f"{sign}£{intcomma(f'{abs(amount):.2f}')}"
    if kind == "percent":
        return f"{float(value) * 100:.1f}%"
    if kind == "int":
        return intcomma(int(value))
    if kind == "number":
        return f"{float(value):,.2f}"
    if kind == "date":
        return value.strftime("%d %b %Y")
    return str(value)


@register.simple_tag(takes_context=True)
def export_url(context, table_name: str, fmt: str) -> str:
    """The current page's address asking for one table as CSV or XLSX (its filters kept)."""
    query = context["request"].GET.copy()
    query["export"] = table_name
    query["format"] = fmt
    return "?" + query.urlencode()
