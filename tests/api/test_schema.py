"""The OpenAPI schema is valid, its documentation is served without a CDN, and the API keeps its
promises against it: schemathesis drives every operation in-process (no 5xx, every response
conforms to the schema, every error in the one error format)."""

import os

import pytest
from django.apps import apps
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings

from accounts.keys import SELF_SERVICE_SCOPES
from storefront.api.services import authorization_header
from tests.api.conftest import issue_key, issue_staff_key
from tests.factories import UserFactory

# Operations of the staff scopes (fulfilment, price import): called with a staff key.
STAFF_PATHS = ("/api/v1/fulfilment/", "/api/v1/price-lists/")

# CI explores the same examples every run; HYPOTHESIS_PROFILE=thorough explores new ones.
THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"


def test_the_schema_generates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", tmp_path / "api.yaml")

    assert "/api/v1/products/{sku}/:" in (tmp_path / "api.yaml").read_text()


@pytest.mark.django_db
def test_the_docs_page_uses_local_assets_only(client):
    html = client.get("/api/docs/").content.decode()

    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()


@pytest.mark.skipif(
    not apps.is_installed("drf_spectacular_sidecar"),
    reason="drf_spectacular_sidecar is not yet in INSTALLED_APPS: the docs page needs its assets",
)
def test_the_docs_assets_are_served_from_this_site():
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


@pytest.mark.django_db
def test_errors_share_one_format_everywhere(client):
    unknown = client.get("/api/v1/no-such-thing/")
    anonymous = client.get("/api/v1/products/")

    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    assert anonymous.status_code == 401
    assert anonymous.json() == {"error": {
        "code": "not_authenticated",
        "message": "Authentication credentials were not provided.",
        "fields": {},
    }}


@pytest.mark.django_db
def test_a_malformed_key_header_is_a_401_not_a_crash(client):
    for header in ("Api-Key", "Api-Key nodot", "Api-Key a.b c", "Api-Key .", "Api-Key x.y"):
        response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=header)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "authentication_failed"


@pytest.fixture
def test_connection_kept():
    """The WSGI handler closes the database connection after each request; inside a test that
    would end the test's transaction, so hold it open as Django's test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _operations():
    import schemathesis  # noqa: F401 - imported with the test only: a dev tool

    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.django_db
@pytest.mark.parametrize("organisation", ["trust", "clinic"])
def test_schemathesis_finds_no_server_error_and_no_nonconforming_response(
    world, test_connection_kept, organisation
):
    from schemathesis.specs.openapi.checks import positive_data_acceptance
    staff = UserFactory(is_staff=True, is_superuser=True)
    admin = {"trust": world.trust_admin, "clinic": world.clinic_buyer}[organisation]
    token = issue_key(getattr(world, organisation), admin, created_by=staff,
                      scopes=list(SELF_SERVICE_SCOPES))
    staff_token = issue_staff_key(staff)
    operations = _operations()
    assert len(operations) >= 25

    for operation in operations:

        @settings(max_examples=12, deadline=None, database=None, derandomize=not THOROUGH,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def conforms(case):
            # The staff scopes' operations are called with a staff key, the others with the
            # organisation's.
            staff_only = case.path.startswith(STAFF_PATHS)
            headers = {"Authorization": authorization_header(staff_token if staff_only
                                                             else token)}
            response = case.call(headers=headers)
            # A schema-valid SKU may still not exist for this buyer (422): business rules are not
            # in the schema, so "valid data accepted" is left to the endpoint tests.
            case.validate_response(response, headers=headers,
                                   excluded_checks=[positive_data_acceptance])
            assert response.status_code < 500

        conforms()


@pytest.mark.django_db
def test_nul_characters_in_text_input_are_refused_not_a_crash(world):
    from tests.api.conftest import key_client

    client = key_client(issue_key(world.trust, world.trust_buyer))

    assert client.get("/api/v1/products/?manufacturer=a%00b").status_code == 400
    assert client.get("/api/v1/products/?search=a%00b").status_code == 400
    assert client.get("/api/v1/products/WC%00SHARED/").status_code == 404
