"""A newcomer's check of two demo logins in a real browser: sign in, open My account, sign out."""

from tests.e2e.conftest import ARTIFACTS, JOURNEY_MARKS
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    SegmentFactory,
    SegmentMembershipFactory,
    SiteFactory,
    UserFactory,
)
from tests.factories.accounts import DEMO_PASSWORD

pytestmark = JOURNEY_MARKS


def _sign_in(page, base_url, email, shot):
    page.goto(f"{base_url}/account/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.screenshot(path=str(ARTIFACTS / f"{shot}-1-sign-in.png"))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_an_nhs_buyer_and_a_retail_consumer_each_see_their_own_account(page, live_server):
    trust = OrganisationFactory(name="Riverside University Hospitals NHS Foundation Trust")
    SiteFactory(organisation=trust, name="Ward 7", postcode="SE1 7EH")
    SegmentMembershipFactory(
        segment=SegmentFactory(code="nhs-contract", name="NHS contract buyers"), organisation=trust
    )
    MembershipFactory(
        organisation=trust,
        user__email="nhs.buyer@demo.test",
        user__full_name="Nadia Buyer",
        is_buyer=False,
        is_requisitioner=True,
    )
    patient = UserFactory(email="patient@demo.test", full_name="Pat Patient", postcode="SE5 9RS")
    SegmentMembershipFactory(
        segment=SegmentFactory(
            code="loyal-consumers", name="Loyal consumers", audience="consumers"
        ),
        user=patient,
    )

    _sign_in(page, live_server.url, "nhs.buyer@demo.test", "nhs-buyer")
    assert "Riverside University Hospitals NHS Foundation Trust" in page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / "nhs-buyer-2-home.png"))
    page.get_by_role("link", name="My account").first.click()
    facts = page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / "nhs-buyer-3-account.png"), full_page=True)
    assert page.inner_text("[data-fact=organisation]") == (
        "Riverside University Hospitals NHS Foundation Trust"
    )
    assert "Requisitioner" in page.inner_text("[data-fact=roles]")
    assert "nhs-contract" in facts and "NHS contract buyers" in facts
    assert "Ward 7, SE1 7EH" in facts
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    assert (
        page.get_by_role("navigation", name="Account")
        .get_by_role("link", name="Sign in")
        .is_visible()
    )

    _sign_in(page, live_server.url, "patient@demo.test", "patient")
    page.get_by_role("link", name="My account").first.click()
    facts = page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / "patient-2-account.png"), full_page=True)
    assert "retail customer buying for yourself" in page.inner_text("[data-fact=organisation]")
    assert "loyal-consumers" in facts and "Loyal consumers" in facts
    assert "SE5 9RS" in facts
    assert "Riverside" not in facts and "nhs-contract" not in facts


def test_a_wrong_password_is_explained_in_the_browser(page, live_server):
    UserFactory(email="clinic.buyer@demo.test")

    page.goto(f"{live_server.url}/account/login/")
    page.get_by_label("Email address").fill("clinic.buyer@demo.test")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()

    page.screenshot(path=str(ARTIFACTS / "wrong-password.png"))
    assert "do not match an account" in page.get_by_role("alert").inner_text()
