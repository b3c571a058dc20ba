"""Complementary products on any page: `{% often_ordered_together products %}` (a product, or a
cart's lines) and `{% accounts_like_yours %}` render `merchandising/_complementary.html` for the
viewing buyer (`request.buyer`), through `merchandising.selectors`. Pages that show them need no
import of merchandising: the catalogue's product page sits below it."""

from django import template
from django.conf import settings
from django.urls import NoReverseMatch, reverse

from merchandising.selectors import complementary_for, peers_also_order

register = template.Library()

TEMPLATE = "merchandising/_complementary.html"


def _shown() -> int:
    return getattr(settings, "MERCHANDISING_SHOWN", 6)


def _add_to_cart_url(request) -> str | None:
    """Cards get an Add button for a signed-in buyer, once ordering provides the endpoint."""
    if not request.user.is_authenticated:
        return None
    try:
        return reverse("cart_add")
    except NoReverseMatch:
        return None


def _panel(context, recommendations, *, title: str, name: str, buyer=None) -> dict:
    request = context["request"]
    return {
        "recommendations": recommendations, "title": title, "name": name,
        "request": request, "buyer": buyer or request.buyer,
        "csrf_token": context.get("csrf_token"),
        "add_to_cart_url": _add_to_cart_url(request),
    }


@register.inclusion_tag(TEMPLATE, takes_context=True)
def often_ordered_together(context, products, title: str = "Often ordered together",
                           buyer=None):
    """Products ordered with `products` (a product, products, ids or cart lines), for `buyer`
    (the cart's buyer, judged where its goods go) or else the request's."""
    if not hasattr(products, "__iter__"):
        products = [products]
    buyer = buyer or context["request"].buyer
    found = complementary_for(buyer, product_ids=products, limit=_shown())
    return _panel(context, found, title=title, name="together", buyer=buyer)


@register.inclusion_tag(TEMPLATE, takes_context=True)
def accounts_like_yours(context, exclude=(), title: str = "Accounts like yours also order"):
    """What this buyer's peers order that it has not ordered lately."""
    found = peers_also_order(context["request"].buyer, limit=_shown(), exclude_ids=exclude or ())
    return _panel(context, found, title=title, name="peers")
