from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Membership, User
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def riverside():
    return OrganisationFactory(name="Riverside University Hospitals NHS Foundation Trust")


@pytest.fixture
def admin(client, riverside):
    user = MembershipFactory(
        organisation=riverside,
        user__email="nhs.admin@demo.test",
        is_buyer=False,
        is_org_admin=True,
    ).user
    client.force_login(user)
    return user


def _members_of(organisation):
    return list(
        Membership.objects.filter(organisation=organisation)
        .order_by("pk")
        .values_list("user__email", "is_buyer", "is_approver", "approval_limit")
    )


def test_the_member_list_shows_roles_and_limits_of_this_organisation_only(client, admin, riverside):
    MembershipFactory(
        organisation=riverside,
        user__email="nhs.approver@demo.test",
        is_buyer=False,
        is_approver=True,
        approval_limit=Decimal("5000.00"),
    )
    MembershipFactory(organisation=OrganisationFactory(name="Harbour"), user__email="c@demo.test")

    response = client.get(reverse("member_list"))

    page = response.content.decode()
    assert "nhs.approver@demo.test" in page and "£5000.00" in page and "Approver" in page
    assert "nhs.admin@demo.test" in page and "Organisation admin" in page
    assert "c@demo.test" not in page
    assert "private" in response["Cache-Control"]


@pytest.mark.parametrize("size", [5, 25])
def test_the_member_list_query_count_does_not_grow(
    client, admin, riverside, size, django_assert_num_queries
):
    for _ in range(size):
        MembershipFactory(organisation=riverside, is_requisitioner=True)
    client.get(reverse("member_list"))

    with django_assert_num_queries(5):
        response = client.get(reverse("member_list"))

    assert len(response.context["members"]) == size + 1


def test_adding_an_existing_user_makes_them_a_member(client, admin, riverside):
    nurse = UserFactory(email="nurse@demo.test", full_name="Nia Nurse")

    response = client.post(
        reverse("member_add"),
        {"email": "Nurse@Demo.Test", "full_name": "ignored", "roles": ["requisitioner"]},
    )

    assert response.status_code == 302
    membership = Membership.objects.get(user=nurse, organisation=riverside)
    assert membership.roles == {"requisitioner"}
    assert User.objects.get(pk=nurse.pk).full_name == "Nia Nurse"


def test_adding_a_new_person_creates_an_account_without_a_password(client, admin, riverside):
    client.post(
        reverse("member_add"),
        {
            "email": "new.approver@demo.test",
            "full_name": "Ola Approver",
            "roles": ["approver"],
            "approval_limit": "2500",
        },
    )

    user = User.objects.get(email="new.approver@demo.test")
    assert not user.has_usable_password()
    assert user.memberships.get().approval_limit == Decimal("2500.00")


def test_a_duplicate_member_is_a_field_error_and_nothing_changes(client, admin, riverside):
    before = _members_of(riverside)

    response = client.post(
        reverse("member_add"),
        {"email": "nhs.admin@demo.test", "full_name": "Again", "roles": ["buyer"]},
    )

    assert response.status_code == 400
    assert response.context["form"].errors["email"] == [
        "This person is already a member of this organisation."
    ]
    assert _members_of(riverside) == before


def test_an_approver_without_a_limit_is_a_field_error_and_no_account_is_created(
    client, admin, riverside
):
    before = (_members_of(riverside), User.objects.count())

    response = client.post(
        reverse("member_add"),
        {"email": "limitless@demo.test", "full_name": "No Limit", "roles": ["approver"]},
    )

    assert response.status_code == 400
    assert response.context["form"].errors["approval_limit"] == [
        "An approver needs an approval limit."
    ]
    assert 'aria-invalid="true"' in response.content.decode()
    assert (_members_of(riverside), User.objects.count()) == before


def test_a_member_without_roles_is_a_field_error(client, admin, riverside):
    response = client.post(
        reverse("member_add"), {"email": "x@demo.test", "full_name": "X", "roles": []}
    )

    assert response.context["form"].errors["roles"] == ["Give the member at least one role."]
    assert not User.objects.filter(email="x@demo.test").exists()


def test_editing_roles_makes_an_approver_with_a_limit(client, admin, riverside):
    member = MembershipFactory(organisation=riverside)

    response = client.post(
        reverse("member_edit", args=[member.pk]),
        {"roles": ["buyer", "approver"], "approval_limit": "750.50"},
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.roles == {"buyer", "approver"}
    assert member.approval_limit == Decimal("750.50")


def test_editing_to_approver_without_a_limit_saves_nothing(client, admin, riverside):
    member = MembershipFactory(organisation=riverside)

    response = client.post(reverse("member_edit", args=[member.pk]), {"roles": ["approver"]})

    assert response.status_code == 400
    assert "approval_limit" in response.context["form"].errors
    member.refresh_from_db()
    assert member.roles == {"buyer"}


def test_making_a_member_org_admin_lets_them_manage_and_removing_them_revokes_it(
    client, admin, riverside
):
    member = MembershipFactory(organisation=riverside)
    client.post(reverse("member_edit", args=[member.pk]), {"roles": ["org_admin"]})
    client.force_login(member.user)
    assert client.get(reverse("member_list")).status_code == 200

    client.force_login(admin)
    response = client.post(reverse("member_remove", args=[member.pk]))

    assert response.status_code == 302
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert not member.user.has_perm("accounts.manage_organisation", riverside)
