"""Responses that depend on who is asking (they read the session, the user or an API key) tell every
shared cache to keep out: `Cache-Control: private` with `no-store`, and `Vary` on what they read.
Swept over every page and endpoint the URL configuration declares, as signed-in buyers and as an
ERP calling with an API key."""

import re

import pytest
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from accounts.keys import ApiKey, ApiScope
from accounts.models import Membership, User
from catalog.models import Category, Product
from ordering.models import Order
from storefront.api.services import api_key_issue, authorization_header

pytestmark = pytest.mark.django_db

PARAM = re.compile(r"<(?:\w+:)?(\w+)>")
BUYERS = ["nhs.buyer", "nhs.admin", "patient", "distributor.north", "clinic.buyer"]


def _routes(patterns=None, prefix=""):
    """(route, name) of every URL the project declares, outside the admin."""
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route.startswith("admin/"):
                continue
            yield from _routes(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern) and not route.startswith("^"):
            yield prefix + route, entry.name


def _fill(route: str, name: str, values: dict) -> str | None:
    """The route with its parameters filled from the demo world, or None if one is unknown."""
    def value(match):
        param = match.group(1)
        return str(values.get(f"{name}.{param}", values.get(param, "\0")))

    path = "/" + PARAM.sub(value, route)
    return None if "\0" in path else path


def _demo_values(email: str) -> dict:
    product = Product.objects.filter(is_active=True).order_by("pk").first()
    order = Order.objects.filter(placed_by__email=email).order_by("pk").first()
    return {
        "sku": product.sku,
        "slug": product.slug,
        "category_browse.slug": Category.objects.order_by("pk").first().slug,
        **({"number": order.number} if order else {}),
    }


def _is_private(response) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return (
        "private" in directives
        and "public" not in directives
        and bool({"no-store", "no-cache"} & directives)
    )


def _sweep(client, email: str, *, api_only=False) -> dict[str, object]:
    values = _demo_values(email)
    answers = {}
    for route, name in _routes():
        if api_only and not route.startswith("api/"):
            continue
        path = _fill(route, name, values)
        if path is not None and name not in {"logout"}:
            answers[path] = client.get(path)
    return answers


@pytest.fixture
def demo(demo_world):
    return demo_world


@pytest.mark.parametrize("login", BUYERS)
def test_every_page_and_endpoint_a_signed_in_buyer_opens_is_private(client, demo, login):
    email = f"{login}@demo.test"
    client.force_login(User.objects.get(email=email))

    answers = _sweep(client, email)

    ok = {path: r for path, r in answers.items() if r.status_code == 200}
    assert len(ok) >= 10
    assert [path for path, r in ok.items() if not _is_private(r)] == []
    assert [path for path, r in ok.items() if "Cookie" not in r.get("Vary", "")] == []


def test_every_endpoint_an_api_key_reads_is_private_and_varies_on_authorization(demo):
    member = Membership.objects.select_related("user", "organisation").get(
        user__email="nhs.buyer@demo.test", organisation__name__startswith="Riverside"
    )
    _, token = api_key_issue(
        key=ApiKey(organisation=member.organisation, user=member.user, name="Cache sweep",
                   scopes=[ApiScope.CATALOGUE_READ, ApiScope.ORDERS_WRITE]),
        created_by=None,
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=authorization_header(token))

    answers = _sweep(client, member.user.email, api_only=True)

    ok = {path: r for path, r in answers.items() if r.status_code == 200}
    assert len(ok) >= 5
    assert [path for path, r in ok.items() if not _is_private(r)] == []
    assert [path for path, r in ok.items() if "Authorization" not in r.get("Vary", "")] == []


def test_a_refused_api_key_answer_is_not_cached_either(demo):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Api-Key nosuchprefix.secret")

    response = client.get("/api/v1/products/")

    assert response.status_code == 401
    assert _is_private(response)
    assert "Authorization" in response["Vary"]


@override_settings(WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True)
def test_static_files_stay_shareable(demo):
    response = Client().get("/static/storefront/vendor/htmx.min.js")

    assert response.status_code == 200
    assert "private" not in response.get("Cache-Control", "")
