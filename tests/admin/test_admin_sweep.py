"""Every page of every model in the admin answers without a server error, for the superuser and for
an account manager whose view is scoped to their organisations, over the demo world."""

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from accounts.models import ApiKey, Membership, User
from storefront.api.services import api_key_issue
from storefront.demo.history import compute_demo_segments

pytestmark = pytest.mark.django_db

REGISTERED = sorted(
    (model._meta.label_lower for model in admin.site._registry), key=str
)
STAFF = ["admin@demo.test", "manager@demo.test"]


@pytest.fixture(scope="module")
def computed_world(demo_world, django_db_blocker):
    """The demo world with its segments computed, as `load_demo` leaves it: runs, facts,
    clusters, propensity models and scores, computed memberships and movements have rows."""
    with django_db_blocker.unblock():
        compute_demo_segments()
    return demo_world


@pytest.fixture
def world(computed_world):
    demo_world = computed_world
    membership = Membership.objects.select_related("organisation", "user").get(
        user__email="nhs.admin@demo.test"
    )
    if not ApiKey.objects.exists():
        api_key_issue(
            key=ApiKey(
                organisation=membership.organisation, user=membership.user, name="Sweep ERP",
                scopes=["catalogue:read"],
            ),
            created_by=None,
        )
    return demo_world


def _model(label: str):
    return next(m for m in admin.site._registry if m._meta.label_lower == label)


def _pages(label: str, pk) -> list[str]:
    app_label, model_name = label.split(".")
    names = ["changelist", "add"]
    urls = [reverse(f"admin:{app_label}_{model_name}_{name}") for name in names]
    if pk is not None:
        for name in ("change", "history", "delete"):
            try:
                urls.append(reverse(f"admin:{app_label}_{model_name}_{name}", args=[pk]))
            except NoReverseMatch:
                continue
    return urls


@pytest.mark.parametrize("email", STAFF)
@pytest.mark.parametrize("label", REGISTERED)
def test_every_admin_page_answers_without_a_server_error(client, world, email, label):
    client.force_login(User.objects.get(email=email))
    row = _model(label)._default_manager.order_by("pk").first()

    answers = {url: client.get(url).status_code for url in _pages(label, row and row.pk)}

    assert {url: status for url, status in answers.items() if status >= 500} == {}
    assert set(answers.values()) <= {200, 302, 403, 404}


def test_the_sweep_meets_a_row_of_nearly_every_model(world):
    empty = [label for label in REGISTERED if not _model(label)._default_manager.exists()]

    assert len(empty) <= len(REGISTERED) // 4, empty


def test_an_api_key_history_page_lists_its_admin_change_log(client, world):
    client.force_login(User.objects.get(email="admin@demo.test"))
    key = ApiKey.objects.order_by("pk").first()
    client.post(
        reverse("admin:accounts_apikey_changelist"),
        {"action": "revoke_keys", "_selected_action": [key.pk]},
    )

    page = client.get(reverse("admin:accounts_apikey_history", args=[key.pk]))

    assert page.status_code == 200
    assert str(key) in page.content.decode()
