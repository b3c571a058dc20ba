"""Staff sign in, out and change their password through the admin's own pages."""

import pytest
from django.urls import reverse

from storefront.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

STAFF = ["manager@demo.test", "admin@demo.test"]


@pytest.fixture
def demo(demo_world):
    return demo_world


def test_an_anonymous_visitor_is_sent_to_the_admin_sign_in_page(client, demo):
    index = client.get("/admin/")
    sign_in = client.get(index["Location"])

    assert index.status_code == 302
    assert index["Location"].startswith(reverse("admin:login"))
    assert sign_in.status_code == 200
    assert 'name="password"' in sign_in.content.decode()


@pytest.mark.parametrize("email", STAFF)
def test_staff_sign_in_at_the_admin_and_reach_its_index(client, demo, email):
    response = client.post(
        reverse("admin:login") + "?next=/admin/",
        {"username": email, "password": DEMO_PASSWORD, "next": "/admin/"},
    )
    index = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.session["_auth_user_id"]
    assert index.status_code == 200
    assert "Organisations" in index.content.decode()


def test_a_wrong_admin_password_signs_nobody_in(client, demo):
    response = client.post(
        reverse("admin:login"), {"username": "manager@demo.test", "password": "not-it"}
    )

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_a_buyer_without_staff_status_is_not_let_into_the_admin(client, demo):
    response = client.post(
        reverse("admin:login"), {"username": "nhs.buyer@demo.test", "password": DEMO_PASSWORD}
    )

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_a_signed_in_buyer_who_is_not_staff_sees_the_admin_sign_in_page(client, demo):
    client.post(reverse("login"), {"username": "nhs.buyer@demo.test", "password": DEMO_PASSWORD})

    page = client.get(reverse("admin:login"))

    assert page.status_code == 200


@pytest.mark.parametrize("email", STAFF)
def test_staff_open_the_password_change_pages_and_sign_out(client, demo, email):
    client.post(reverse("admin:login"), {"username": email, "password": DEMO_PASSWORD})

    change = client.get(reverse("admin:password_change"))
    done = client.get(reverse("admin:password_change_done"))
    signed_out = client.post(reverse("admin:logout"), follow=True)

    assert (change.status_code, done.status_code, signed_out.status_code) == (200, 200, 200)
    assert signed_out.redirect_chain == [(reverse("home"), 302)]
    assert "_auth_user_id" not in client.session


def test_staff_change_their_password_in_the_admin(client, demo):
    client.post(
        reverse("admin:login"), {"username": "manager@demo.test", "password": DEMO_PASSWORD}
    )

    response = client.post(reverse("admin:password_change"), {
        "old_password": DEMO_PASSWORD,
        "new_password1": "a-new-long-pass-2027",
        "new_password2": "a-new-long-pass-2027",
    })

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:password_change_done")
