from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from stdnum import ean

from accounts import services
from accounts.models import Membership, Organisation, Site, User
from accounts.validators import validate_gln
from tests.factories import (
    CostCentreFactory,
    MembershipFactory,
    OrganisationFactory,
    SiteFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _gln(body12: str) -> str:
    return body12 + ean.calc_check_digit(body12)


def test_a_valid_gln_passes_and_a_wrong_check_digit_is_refused():
    good = _gln("501234567890")
    validate_gln(good)
    wrong = good[:-1] + str((int(good[-1]) + 1) % 10)

    with pytest.raises(ValidationError, match="check digit"):
        validate_gln(wrong)
    with pytest.raises(ValidationError, match="13 digits"):
        validate_gln("50123")


def test_user_email_is_the_login_and_is_lower_cased():
    user = User.objects.create_user("Nurse.Jones@Demo.Test", "pw-12345678", full_name="A Jones")

    assert user.email == "nurse.jones@demo.test"
    assert User.objects.get(email="nurse.jones@demo.test").check_password("pw-12345678")


@pytest.mark.parametrize(
    ("regulator", "number", "ok"),
    [
        ("gmc", "7012345", True),
        ("gmc", "701234", False),
        ("nmc", "12a3456e", True),
        ("nmc", "1234567", False),
        ("hcpc", "PH123456", True),
        ("hcpc", "XX123456", False),
        ("gphc", "2071234", True),
        ("gphc", "9071234", False),
    ],
)
def test_professional_registration_numbers_follow_their_register_format(regulator, number, ok):
    user = UserFactory.build(regulator=regulator, registration_number=number)

    if ok:
        user.full_clean(exclude=["password"])
        assert user.registration_number == number.upper()
    else:
        with pytest.raises(ValidationError) as error:
            user.full_clean(exclude=["password"])
        assert "registration_number" in error.value.message_dict


def test_only_a_registration_can_be_verified():
    user = UserFactory.build(registration_status="verified")

    with pytest.raises(ValidationError) as error:
        user.full_clean(exclude=["password"])

    assert "registration_status" in error.value.message_dict


def test_organisation_postcode_is_normalised_and_gives_its_area():
    organisation = OrganisationFactory(postcode="ls1 3ex")

    assert organisation.postcode == "LS1 3EX"
    assert organisation.postcode_area == "LS"


def test_an_invalid_site_postcode_saves_nothing():
    organisation = OrganisationFactory()

    with pytest.raises(ValidationError) as error:
        SiteFactory(organisation=organisation, postcode="NOT A CODE")

    assert "postcode" in error.value.message_dict
    assert not Site.objects.exists()


def test_organisation_hierarchy_cannot_loop():
    ics = OrganisationFactory(kind="ics", name="North Thames ICS")
    trust = OrganisationFactory(parent=ics)
    ics.parent = trust

    with pytest.raises(ValidationError, match="below itself"):
        services.organisation_save(organisation=ics)

    ics.refresh_from_db()
    assert ics.parent is None
    assert trust.ancestors() == [ics]


def test_duplicate_membership_is_a_clear_error_and_saves_nothing():
    membership = MembershipFactory()

    with pytest.raises(ValidationError, match="already a member"):
        MembershipFactory(user=membership.user, organisation=membership.organisation)

    assert Membership.objects.count() == 1


def test_an_approver_needs_a_limit_and_only_approvers_have_one():
    organisation = OrganisationFactory()

    with pytest.raises(ValidationError) as error:
        MembershipFactory(organisation=organisation, is_buyer=False, is_approver=True)
    assert "approval_limit" in error.value.message_dict

    with pytest.raises(ValidationError) as error:
        MembershipFactory(organisation=organisation, approval_limit=Decimal("100.00"))
    assert "approval_limit" in error.value.message_dict

    with pytest.raises(ValidationError, match="at least one role"):
        MembershipFactory(organisation=organisation, is_buyer=False)
    assert not Membership.objects.exists()


def test_cost_centre_codes_are_unique_per_organisation_only():
    first, second = OrganisationFactory(), OrganisationFactory()
    CostCentreFactory(organisation=first, code="WARD7")
    CostCentreFactory(organisation=second, code="ward7")

    with pytest.raises(ValidationError, match="already has a cost centre"):
        CostCentreFactory(organisation=first, code="ward7")


def test_org_admin_role_grants_the_manage_permission_on_that_organisation_only():
    riverside, harbour = OrganisationFactory(), OrganisationFactory(kind="private_clinic")
    admin = MembershipFactory(organisation=riverside, is_org_admin=True).user
    MembershipFactory(user=admin, organisation=harbour)

    assert admin.has_perm("accounts.manage_organisation", riverside)
    assert not admin.has_perm("accounts.manage_organisation", harbour)

    MembershipFactory(organisation=riverside, is_org_admin=True)  # someone else stays admin
    membership = Membership.objects.get(user=admin, organisation=riverside)
    membership.is_org_admin = False
    services.membership_save(membership=membership)
    admin = User.objects.get(pk=admin.pk)  # fresh permission cache

    assert not admin.has_perm("accounts.manage_organisation", riverside)


def test_account_manager_gets_object_permissions_on_assigned_organisations_only():
    manager = UserFactory(is_staff=True)
    other_manager = UserFactory(is_staff=True)
    mine = OrganisationFactory(account_manager=manager)
    theirs = OrganisationFactory(account_manager=other_manager)

    assert manager.has_perm("accounts.change_organisation", mine)
    assert not manager.has_perm("accounts.change_organisation", theirs)

    mine.account_manager = other_manager
    services.organisation_save(organisation=mine)
    manager = User.objects.get(pk=manager.pk)

    assert not manager.has_perm("accounts.change_organisation", mine)


def test_an_account_manager_must_be_staff():
    with pytest.raises(ValidationError) as error:
        OrganisationFactory(account_manager=UserFactory(is_staff=False))

    assert "account_manager" in error.value.message_dict
    assert not Organisation.objects.exists()


def test_the_last_org_admin_cannot_step_down_or_leave():
    organisation = OrganisationFactory()
    only_admin = MembershipFactory(organisation=organisation, is_org_admin=True)

    only_admin.is_org_admin = False
    with pytest.raises(ValidationError, match="only administrator"):
        services.membership_save(membership=only_admin)
    with pytest.raises(ValidationError, match="only administrator"):
        services.membership_remove(membership=Membership.objects.get(pk=only_admin.pk))

    second = MembershipFactory(organisation=organisation, is_org_admin=True)
    services.membership_remove(membership=Membership.objects.get(pk=only_admin.pk))

    assert list(Membership.objects.filter(organisation=organisation)) == [second]


def test_inviting_a_new_person_creates_an_account_without_a_usable_password():
    organisation = OrganisationFactory()

    membership = services.member_invite(
        organisation=organisation,
        email="New.Nurse@Demo.Test",
        full_name="New Nurse",
        membership=Membership(is_requisitioner=True),
    )

    assert membership.user.email == "new.nurse@demo.test"
    assert not membership.user.has_usable_password()
    with pytest.raises(ValidationError):
        services.member_invite(
            organisation=organisation,
            email="new.nurse@demo.test",
            full_name="Again",
            membership=Membership(is_buyer=True),
        )
    assert User.objects.filter(email="new.nurse@demo.test").count() == 1


def test_a_bad_postcode_is_reported_on_the_postcode_field():
    with pytest.raises(ValidationError) as error:
        OrganisationFactory(postcode="SE1")

    assert "valid UK postcode" in error.value.message_dict["postcode"][0]


def test_a_membership_cannot_move_to_another_organisation():
    membership = MembershipFactory(is_org_admin=True)
    MembershipFactory(organisation=membership.organisation, is_org_admin=True)
    membership.organisation = OrganisationFactory(name="Elsewhere")

    with pytest.raises(ValidationError, match="cannot move"):
        services.membership_save(membership=membership)
