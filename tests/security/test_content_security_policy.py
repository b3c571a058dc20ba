"""A Content-Security-Policy on every page (django-csp): scripts only from our own origin, no inline
script and no inline event handler anywhere in our templates; the admin and the API documentation
work under it."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
OUR_TEMPLATE_DIRS = [ROOT / "templates"] + sorted(
    path for path in ROOT.glob("*/templates") if ".venv" not in path.parts
)
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
HANDLER = re.compile(r"""\son[a-z]+\s*=\s*["'{]""", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"""\sstyle\s*=\s*["'{]""", re.IGNORECASE)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.IGNORECASE)


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = [part.strip().split() for part in header.split(";") if part.strip()]
    return {name: values for name, *values in directives}


def _our_templates() -> list[Path]:
    return sorted(path for folder in OUR_TEMPLATE_DIRS for path in folder.rglob("*.html"))


def test_the_template_scan_reads_the_templates_of_every_app():
    folders = {path.relative_to(ROOT).parts[0] for path in _our_templates()}

    assert {"templates", "pricing", "territories"} <= folders
    assert len(_our_templates()) > 50


def test_no_template_of_ours_holds_an_inline_script():
    inline = [
        f"{path.relative_to(ROOT)}: <script{attrs}>"
        for path in _our_templates()
        for attrs in SCRIPT_TAG.findall(path.read_text())
        if "src=" not in attrs and 'type="application/json"' not in attrs
    ]

    assert inline == []


def test_no_template_of_ours_holds_an_inline_event_handler_style_or_javascript_url():
    found = [
        f"{path.relative_to(ROOT)}: {match.group(0).strip()}"
        for path in _our_templates()
        for pattern in (HANDLER, STYLE_ATTRIBUTE, JS_URL)
        for match in pattern.finditer(path.read_text())
    ]

    assert found == []


@pytest.mark.parametrize("url", ["/", "/catalogue/", "/account/login/", "/admin/login/"])
def test_pages_carry_a_policy_allowing_scripts_only_from_our_origin(client, url):
    response = client.get(url)
    policy = _policy(response)

    assert response.status_code == 200
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy.get("style-src", [])
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


def test_the_admin_keeps_the_script_policy(client):
    client.force_login(UserFactory(email="admin@demo.test", is_staff=True, is_superuser=True))

    policy = _policy(client.get(reverse("admin:index")))

    assert policy["script-src"] == ["'self'"]


def test_the_api_documentation_loads_its_script_from_a_url_and_its_style_by_nonce(client):
    client.force_login(UserFactory(email="admin@demo.test", is_staff=True, is_superuser=True))

    page = client.get("/api/docs/")
    html = page.content.decode()
    script = client.get("/api/docs/?script=")
    policy = _policy(page)
    nonce = next(v for v in policy["style-src"] if v.startswith("'nonce-"))[7:-1]

    assert page.status_code == 200
    assert [attrs for attrs in SCRIPT_TAG.findall(html) if "src=" not in attrs] == []
    assert f'<style nonce="{nonce}">' in html
    assert policy["script-src"] == ["'self'"]
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
