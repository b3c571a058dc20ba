"""Guessing is throttled (django-axes): ten failed sign-ins for one account from one address lock
that pair out for the cool-off, on the storefront's sign-in page, the admin's, and for API keys.
A lockout answers 429 with a page or the API's one error format, never a 500."""

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.keys import ApiKey
from storefront.api.services import api_key_issue, api_key_revoke, authorization_header
from tests.factories import MembershipFactory, UserFactory
from tests.factories.accounts import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

LIMIT = settings.AXES_FAILURE_LIMIT
HERE, ELSEWHERE = "203.0.113.7", "198.51.100.20"


def _sign_in(client, url, email, password, ip=HERE):
    return client.post(url, {"username": email, "password": password}, REMOTE_ADDR=ip)


def _fail(client, url, email, times, ip=HERE):
    return [_sign_in(client, url, email, "wrong-password", ip).status_code for _ in range(times)]


def test_the_limits_are_ten_failures_and_fifteen_minutes_by_account_and_address():
    assert settings.AXES_ENABLED
    assert LIMIT == 10
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_nine_wrong_passwords_still_let_the_right_one_in(client):
    UserFactory(email="nhs.buyer@demo.test")

    statuses = _fail(client, reverse("login"), "nhs.buyer@demo.test", LIMIT - 1)
    response = _sign_in(client, reverse("login"), "nhs.buyer@demo.test", DEMO_PASSWORD)

    assert set(statuses) == {200}
    assert response.status_code == 302
    assert client.session["_auth_user_id"]


def test_ten_wrong_passwords_lock_the_storefront_sign_in_for_that_account_and_address(client):
    UserFactory(email="nhs.buyer@demo.test")

    _fail(client, reverse("login"), "nhs.buyer@demo.test", LIMIT)
    locked = _sign_in(client, reverse("login"), "nhs.buyer@demo.test", DEMO_PASSWORD)

    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.content.decode()
    assert "15 minutes" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_lockout_keeps_other_addresses_and_other_accounts_signing_in(client):
    UserFactory(email="nhs.buyer@demo.test")
    UserFactory(email="clinic.buyer@demo.test")
    _fail(client, reverse("login"), "nhs.buyer@demo.test", LIMIT)

    elsewhere = _sign_in(
        client, reverse("login"), "nhs.buyer@demo.test", DEMO_PASSWORD, ip=ELSEWHERE
    )
    client.logout()
    colleague = _sign_in(client, reverse("login"), "clinic.buyer@demo.test", DEMO_PASSWORD)

    assert (elsewhere.status_code, colleague.status_code) == (302, 302)


def test_the_email_counts_whatever_its_case(client):
    UserFactory(email="nhs.buyer@demo.test")

    _fail(client, reverse("login"), "Nhs.Buyer@Demo.Test", LIMIT // 2)
    _fail(client, reverse("login"), "nhs.buyer@demo.test", LIMIT - LIMIT // 2)
    locked = _sign_in(client, reverse("login"), "nhs.buyer@demo.test", DEMO_PASSWORD)

    assert locked.status_code == 429


def test_ten_wrong_passwords_lock_the_admin_sign_in(client):
    UserFactory(email="manager@demo.test", is_staff=True)

    _fail(client, reverse("admin:login"), "manager@demo.test", LIMIT)
    locked = _sign_in(client, reverse("admin:login"), "manager@demo.test", DEMO_PASSWORD)

    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_staff_unlock_an_account_with_the_reset_command(client):
    UserFactory(email="nhs.buyer@demo.test")
    _fail(client, reverse("login"), "nhs.buyer@demo.test", LIMIT)

    call_command("axes_reset_username", "nhs.buyer@demo.test")
    response = _sign_in(client, reverse("login"), "nhs.buyer@demo.test", DEMO_PASSWORD)

    assert response.status_code == 302


def test_a_successful_sign_in_forgets_earlier_failures(client):
    UserFactory(email="nhs.buyer@demo.test")
    _fail(client, reverse("login"), "nhs.buyer@demo.test", LIMIT - 1)
    _sign_in(client, reverse("login"), "nhs.buyer@demo.test", DEMO_PASSWORD)
    client.logout()

    statuses = _fail(client, reverse("login"), "nhs.buyer@demo.test", LIMIT - 1)

    assert set(statuses) == {200}


@pytest.fixture
def erp_key():
    member = MembershipFactory(user__email="nhs.admin@demo.test", is_org_admin=True)
    key, token = api_key_issue(
        key=ApiKey(organisation=member.organisation, user=member.user, name="ERP",
                   scopes=["catalogue:read"]),
        created_by=member.user,
    )
    return key, token


def _call(token: str, ip=HERE):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=authorization_header(token), REMOTE_ADDR=ip)
    return client.get("/api/v1/me/")


def test_a_wrong_secret_repeated_from_one_address_locks_that_key_there(erp_key):
    key, token = erp_key
    wrong = f"{key.prefix}.not-the-secret"

    statuses = [_call(wrong).status_code for _ in range(LIMIT - 1)]
    tenth = _call(wrong)
    locked = _call(token)
    elsewhere = _call(token, ip=ELSEWHERE)

    assert set(statuses) == {401}
    assert tenth.status_code in {401, 429}
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "locked_out"
    assert "15 minutes" in locked.json()["error"]["message"]
    assert int(locked["Retry-After"]) > 0
    assert elsewhere.status_code == 200


def test_a_revoked_key_repeated_from_one_address_is_locked_out(erp_key):
    key, token = erp_key
    api_key_revoke(key=key)

    statuses = [_call(token).status_code for _ in range(LIMIT + 2)]

    assert statuses[: LIMIT - 1] == [401] * (LIMIT - 1)
    assert statuses[-1] == 429


def test_an_unlocked_key_works_again(erp_key):
    key, token = erp_key
    for _ in range(LIMIT):
        _call(f"{key.prefix}.not-the-secret")

    call_command("axes_reset_ip", HERE)

    assert _call(token).status_code == 200
