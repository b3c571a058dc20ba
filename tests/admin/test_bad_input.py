from django.urls import reverse

from accounts.models import Budget, Membership, Organisation, Site
from tests.admin.forms import empty_inlines, post_data
from tests.factories import CostCentreFactory, MembershipFactory, SiteFactory

ORGANISATION_INLINES = ("memberships", "sites", "cost_centres")


def _organisation_add_data(**overrides):
    data = {
        "name": "Eastbrook Community Health NHS Trust", "kind": "nhs_trust",
        "customer_tier": "B", "credit_limit": "0.00", "payment_terms_days": "30",
        "professional_status": "unverified", "is_active": "on",
        **empty_inlines(*ORGANISATION_INLINES),
    }
    data.update(overrides)
    return data


def _errors(response):
    return response.context["adminform"].form.errors


def test_a_valid_organisation_is_added(client, superuser):
    client.force_login(superuser)

    response = client.post(
        reverse("admin:accounts_organisation_add"),
        _organisation_add_data(gln="5012345678900", ods_code="rxe", postcode="n1 9gu"),
    )

    assert response.status_code == 302
    added = Organisation.objects.get(name="Eastbrook Community Health NHS Trust")
    assert (added.ods_code, added.postcode, added.postcode_area) == ("RXE", "N1 9GU", "N")


def test_invalid_gln_is_a_field_error_and_adds_nothing(client, superuser):
    client.force_login(superuser)

    response = client.post(
        reverse("admin:accounts_organisation_add"), _organisation_add_data(gln="5012345678901")
    )

    assert response.status_code == 200
    assert "check digit" in _errors(response)["gln"][0]
    assert not Organisation.objects.exists()


def test_invalid_registered_postcode_is_a_field_error_and_adds_nothing(client, superuser):
    client.force_login(superuser)

    response = client.post(
        reverse("admin:accounts_organisation_add"), _organisation_add_data(postcode="SE1 7E")
    )

    assert response.status_code == 200
    assert "valid UK postcode" in _errors(response)["postcode"][0]
    assert not Organisation.objects.exists()


def test_invalid_site_postcode_is_a_field_error_and_adds_nothing(client, superuser, riverside):
    client.force_login(superuser)

    response = client.post(reverse("admin:accounts_site_add"), {
        "organisation": riverside.pk, "name": "Ward 4", "kind": "ward",
        "address_line1": "Westminster Bridge Road", "town": "London", "postcode": "QQ1 1QQ",
        "is_active": "on",
    })

    assert response.status_code == 200
    assert "valid UK postcode" in _errors(response)["postcode"][0]
    assert not Site.objects.exists()


def test_duplicate_membership_is_a_field_error_and_adds_nothing(client, superuser, riverside):
    existing = MembershipFactory(organisation=riverside)
    client.force_login(superuser)

    response = client.post(reverse("admin:accounts_membership_add"), {
        "user": existing.user.pk, "organisation": riverside.pk, "is_approver": "on",
        "approval_limit": "5000.00", "is_active": "on",
    })

    assert response.status_code == 200
    assert _errors(response)["user"] == ["This person is already a member of this organisation."]
    assert Membership.objects.get() == existing
    assert not Membership.objects.filter(is_approver=True).exists()


def test_approver_without_limit_is_a_field_error(client, superuser, riverside):
    member = MembershipFactory(organisation=riverside)
    client.force_login(superuser)
    url = reverse("admin:accounts_membership_change", args=[member.pk])
    data = post_data(client.get(url))
    data["is_approver"] = "on"

    response = client.post(url, data)

    assert response.status_code == 200
    assert _errors(response)["approval_limit"] == ["An approver needs an approval limit."]
    member.refresh_from_db()
    assert member.is_approver is False


def test_duplicate_member_in_the_organisation_inline_changes_nothing(client, manager, riverside):
    existing = MembershipFactory(organisation=riverside)
    client.force_login(manager)
    url = reverse("admin:accounts_organisation_change", args=[riverside.pk])
    data = post_data(client.get(url))
    data.update({
        "memberships-TOTAL_FORMS": "2", "memberships-1-user": existing.user.pk,
        "memberships-1-is_buyer": "on", "memberships-1-is_active": "on", "industry": "Acute",
    })

    response = client.post(url, data)

    assert response.status_code == 200
    assert Membership.objects.count() == 1
    riverside.refresh_from_db()
    assert riverside.industry == ""


def test_invalid_gln_in_the_site_inline_changes_nothing(client, manager, riverside):
    site = SiteFactory(organisation=riverside, name="Ward 7")
    client.force_login(manager)
    url = reverse("admin:accounts_organisation_change", args=[riverside.pk])
    data = post_data(client.get(url))
    data.update({"sites-0-gln": "123", "town": "Southwark"})

    response = client.post(url, data)

    assert response.status_code == 200
    site_form = response.context["inline_admin_formsets"][1].formset.forms[0]
    assert site_form.errors["gln"] == ["A GLN has exactly 13 digits."]
    site.refresh_from_db()
    riverside.refresh_from_db()
    assert (site.gln, riverside.town) == ("", "London")


def test_two_new_sites_with_one_gln_are_a_field_error_not_a_crash(client, manager, riverside):
    client.force_login(manager)
    url = reverse("admin:accounts_organisation_change", args=[riverside.pk])
    data = post_data(client.get(url))
    site = {"kind": "ward", "address_line1": "Westminster Bridge Road", "town": "London",
            "postcode": "SE1 7EH", "gln": "5012345678900", "is_active": "on"}
    data["sites-TOTAL_FORMS"] = "2"
    for index, name in enumerate(["Ward 1", "Ward 2"]):
        row = {**site, "name": name}
        data.update({f"sites-{index}-{key}": value for key, value in row.items()})

    response = client.post(url, data)

    assert response.status_code == 200
    second = response.context["inline_admin_formsets"][1].formset.forms[1]
    assert second.errors["gln"] == ["Another site in this form has the same GLN."]
    assert not Site.objects.exists()


def test_two_overlapping_new_budgets_are_an_error_not_a_crash(client, manager, riverside):
    cost_centre = CostCentreFactory(organisation=riverside, code="W5CARD")
    client.force_login(manager)
    url = reverse("admin:accounts_costcentre_change", args=[cost_centre.pk])
    data = post_data(client.get(url))
    data["budgets-TOTAL_FORMS"] = "2"
    for index, (start, end) in enumerate([("2026-04-01", "2027-03-31"),
                                          ("2026-10-01", "2027-09-30")]):
        data.update({f"budgets-{index}-period_start": start, f"budgets-{index}-period_end": end,
                     f"budgets-{index}-amount": "25000.00"})

    response = client.post(url, data)

    assert response.status_code == 200
    second = response.context["inline_admin_formsets"][0].formset.forms[1]
    assert second.non_field_errors() == ["This period overlaps another budget in this form."]
    assert not Budget.objects.exists()
