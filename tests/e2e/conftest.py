"""Browser journeys: Playwright driving Debian's Chromium against the live test server."""

import os
from pathlib import Path

import pytest

from tests.factories.accounts import DEMO_PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Marks for every journey module: browser, a transactional database for live_server, and a skip
# with the reason when Chromium is not installed.
JOURNEY_MARKS = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)",
    ),
]


@pytest.fixture
def page():
    """A fresh headless page; the sync API's event loop needs Django's async-safety check off."""
    sync_api = pytest.importorskip("playwright.sync_api")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        journey_page = context.new_page()
        refused = []
        journey_page.on("console", lambda message: _note_csp_refusal(message, refused))
        yield journey_page
        context.close()
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    # Every journey also checks that the Content-Security-Policy refused nothing on its pages.
    assert refused == [], refused


def _note_csp_refusal(message, refused: list) -> None:
    if message.type == "error" and "Content Security Policy" in message.text:
        refused.append(f"{message.location.get('url')}: {message.text}")


def sign_in(page, base_url: str, email: str) -> None:
    """Sign in through the storefront's own sign-in page, as a person would."""
    page.goto(f"{base_url}/account/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
