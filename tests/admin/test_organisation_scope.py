from django.urls import reverse
from guardian.shortcuts import get_perms

from accounts.models import Membership, Site
from tests.admin.forms import post_data
from tests.factories import MembershipFactory, SiteFactory, UserFactory


def _changelist_names(client, model="organisation"):
    response = client.get(reverse(f"admin:accounts_{model}_changelist"))
    assert response.status_code == 200
    return sorted(str(obj) for obj in response.context["cl"].result_list)


def test_superuser_sees_every_organisation(client, superuser, riverside, harbour, northgate):
    client.force_login(superuser)

    names = _changelist_names(client)

    assert names == [
        "Harbour Physiotherapy Clinic",
        "Northgate Hospitals NHS Trust",
        "Riverside University Hospitals NHS FT",
    ]


def test_account_manager_sees_only_assigned_organisations(
    client, manager, riverside, harbour, northgate
):
    client.force_login(manager)

    names = _changelist_names(client)

    assert names == ["Harbour Physiotherapy Clinic", "Riverside University Hospitals NHS FT"]


def test_account_manager_cannot_open_another_managers_organisation(
    client, manager, riverside, northgate
):
    client.force_login(manager)

    change = client.get(reverse("admin:accounts_organisation_change", args=[northgate.pk]))
    history = client.get(reverse("admin:accounts_organisation_history", args=[northgate.pk]))

    assert change.status_code == 302
    assert change.url == reverse("admin:index")
    assert history.status_code in (403, 404)
    assert b"Northgate" not in history.content


def test_account_manager_cannot_open_another_organisations_site_or_membership(
    client, manager, riverside, northgate
):
    site = SiteFactory(organisation=northgate, name="Ward 12, Leeds General", postcode="LS1 3EX")
    membership = MembershipFactory(organisation=northgate)
    client.force_login(manager)

    site_page = client.get(reverse("admin:accounts_site_change", args=[site.pk]))
    membership_page = client.get(reverse("admin:accounts_membership_change", args=[membership.pk]))
    site_list = _changelist_names(client, "site")

    assert site_page.status_code == 302
    assert membership_page.status_code == 302
    assert site_list == []


def test_account_manager_chooses_only_own_organisations_for_a_membership(
    client, manager, riverside, harbour, northgate
):
    client.force_login(manager)

    response = client.get(reverse("admin:accounts_membership_add"))

    choices = response.context["adminform"].form.fields["organisation"].queryset
    assert sorted(o.name for o in choices) == [
        "Harbour Physiotherapy Clinic", "Riverside University Hospitals NHS FT",
    ]


def test_account_manager_cannot_post_a_membership_for_another_organisation(
    client, manager, riverside, northgate
):
    person = UserFactory(email="ward.sister@demo.test")
    client.force_login(manager)

    response = client.post(reverse("admin:accounts_membership_add"), {
        "user": person.pk, "organisation": northgate.pk, "is_buyer": "on", "is_active": "on",
    })

    assert response.status_code == 200
    assert "organisation" in response.context["adminform"].form.errors
    assert not Membership.objects.filter(user=person).exists()


def test_account_manager_adds_a_site_to_own_organisation(client, manager, riverside):
    client.force_login(manager)

    response = client.post(reverse("admin:accounts_site_add"), {
        "organisation": riverside.pk, "name": "Stores, St Olave's", "kind": "stores",
        "address_line1": "1 Lambeth Palace Road", "town": "London", "postcode": "se1 7eh",
        "is_active": "on",
    })

    assert response.status_code == 302
    site = Site.objects.get(organisation=riverside, name="Stores, St Olave's")
    assert site.postcode == "SE1 7EH"
    assert site.postcode_area == "SE"


def test_account_manager_cannot_reassign_account_manager_or_parent(
    client, manager, other_manager, riverside, northgate
):
    client.force_login(manager)
    url = reverse("admin:accounts_organisation_change", args=[riverside.pk])
    data = post_data(client.get(url))
    data.update({"account_manager": other_manager.pk, "parent": northgate.pk, "industry": "Acute"})

    response = client.post(url, data)

    assert response.status_code == 302
    riverside.refresh_from_db()
    assert riverside.industry == "Acute"
    assert riverside.account_manager == manager
    assert riverside.parent is None
    assert "change_organisation" not in get_perms(other_manager, riverside)


def test_superuser_reassigning_account_manager_moves_the_object_permissions(
    client, superuser, manager, other_manager, riverside
):
    client.force_login(superuser)
    url = reverse("admin:accounts_organisation_change", args=[riverside.pk])
    data = post_data(client.get(url))
    data["account_manager"] = other_manager.pk

    response = client.post(url, data)

    assert response.status_code == 302
    assert set(get_perms(other_manager, riverside)) == {"view_organisation", "change_organisation"}
    assert get_perms(manager, riverside) == []


def test_account_manager_sees_only_people_of_own_organisations(
    client, manager, riverside, northgate
):
    MembershipFactory(user=UserFactory(email="nhs.buyer@demo.test"), organisation=riverside)
    MembershipFactory(user=UserFactory(email="trust2.buyer@demo.test"), organisation=northgate)
    UserFactory(email="patient@demo.test")
    client.force_login(manager)

    response = client.get(reverse("admin:accounts_user_changelist"))

    assert [u.email for u in response.context["cl"].result_list] == ["nhs.buyer@demo.test"]


def test_account_manager_finds_a_new_member_only_by_exact_email(client, manager, riverside):
    UserFactory(email="new.starter@demo.test")
    UserFactory(email="patient@demo.test")
    client.force_login(manager)
    lookup = {"app_label": "accounts", "model_name": "membership", "field_name": "user"}

    partial = client.get(reverse("admin:autocomplete"), {**lookup, "term": "demo.test"})
    exact = client.get(reverse("admin:autocomplete"), {**lookup, "term": "New.Starter@demo.test"})

    assert partial.json()["results"] == []
    assert [r["text"] for r in exact.json()["results"]] == [
        str(UserFactory._meta.model.objects.get(email="new.starter@demo.test"))
    ]


def _row(data, prefix, pk):
    """The inline row index of the saved object `pk` in admin POST data."""
    (key,) = [k for k, v in data.items() if k.startswith(prefix) and k.endswith("-id")
              and str(v) == str(pk)]
    return key[len(prefix) + 1:-len("-id")]


def _org_admin(organisation, email):
    return MembershipFactory(
        user=UserFactory(email=email), organisation=organisation, is_buyer=False, is_org_admin=True
    )


def test_deleting_a_membership_in_admin_removes_the_org_admin_permission(
    client, superuser, riverside
):
    _org_admin(riverside, "nhs.admin@demo.test")
    leaving = _org_admin(riverside, "procurement.lead@demo.test")
    client.force_login(superuser)

    response = client.post(
        reverse("admin:accounts_membership_delete", args=[leaving.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Membership.objects.filter(pk=leaving.pk).exists()
    assert "manage_organisation" not in get_perms(leaving.user, riverside)


def test_deleting_the_last_org_admin_is_refused_with_a_message(client, superuser, riverside):
    only_admin = _org_admin(riverside, "nhs.admin@demo.test")
    client.force_login(superuser)
    url = reverse("admin:accounts_membership_delete", args=[only_admin.pk])

    response = client.post(url, {"post": "yes"}, follow=True)

    assert response.status_code == 200
    assert "only administrator" in response.content.decode()
    assert Membership.objects.filter(pk=only_admin.pk).exists()
    assert "manage_organisation" in get_perms(only_admin.user, riverside)


def test_manager_removes_a_member_through_the_organisation_inline(client, manager, riverside):
    _org_admin(riverside, "nhs.admin@demo.test")
    leaving = _org_admin(riverside, "procurement.lead@demo.test")
    client.force_login(manager)
    url = reverse("admin:accounts_organisation_change", args=[riverside.pk])
    data = post_data(client.get(url))
    data[f"memberships-{_row(data, 'memberships', leaving.pk)}-DELETE"] = "on"

    response = client.post(url, data)

    assert response.status_code == 302
    assert not Membership.objects.filter(pk=leaving.pk).exists()
    assert get_perms(leaving.user, riverside) == []


def test_removing_the_last_org_admin_in_the_inline_changes_nothing(client, manager, riverside):
    only_admin = _org_admin(riverside, "nhs.admin@demo.test")
    client.force_login(manager)
    url = reverse("admin:accounts_organisation_change", args=[riverside.pk])
    data = post_data(client.get(url))
    data[f"memberships-{_row(data, 'memberships', only_admin.pk)}-DELETE"] = "on"
    data["industry"] = "Acute"

    response = client.post(url, data, follow=True)

    assert response.status_code == 200
    assert "only administrator" in response.content.decode()
    assert Membership.objects.filter(pk=only_admin.pk).exists()
    riverside.refresh_from_db()
    assert riverside.industry == ""


def test_handing_the_admin_role_to_another_member_in_one_save(client, manager, riverside):
    outgoing = _org_admin(riverside, "aaa.admin@demo.test")
    incoming = MembershipFactory(user=UserFactory(email="zzz.buyer@demo.test"),
                                 organisation=riverside)
    client.force_login(manager)
    url = reverse("admin:accounts_organisation_change", args=[riverside.pk])
    data = post_data(client.get(url))
    data.pop(f"memberships-{_row(data, 'memberships', outgoing.pk)}-is_org_admin")
    data[f"memberships-{_row(data, 'memberships', outgoing.pk)}-is_buyer"] = "on"
    data[f"memberships-{_row(data, 'memberships', incoming.pk)}-is_org_admin"] = "on"

    response = client.post(url, data)

    assert response.status_code == 302
    assert get_perms(incoming.user, riverside) == ["manage_organisation"]
    assert get_perms(outgoing.user, riverside) == []


def test_bulk_remove_goes_through_the_service_and_is_all_or_nothing(client, manager, riverside):
    buyer = MembershipFactory(user=UserFactory(email="aaa.buyer@demo.test"), organisation=riverside)
    only_admin = _org_admin(riverside, "nhs.admin@demo.test")
    client.force_login(manager)
    changelist = reverse("admin:accounts_membership_changelist")

    refused = client.post(changelist, {
        "action": "remove_memberships", "_selected_action": [buyer.pk, only_admin.pk],
    }, follow=True)
    kept = set(Membership.objects.all())
    removed = client.post(changelist, {
        "action": "remove_memberships", "_selected_action": [buyer.pk],
    })

    assert "only administrator" in refused.content.decode()
    assert kept == {buyer, only_admin}
    assert removed.status_code == 302
    assert list(Membership.objects.all()) == [only_admin]
