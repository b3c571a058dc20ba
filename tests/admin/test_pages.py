import pytest
from django.contrib import admin
from django.urls import reverse

from accounts.models import ApiKey, OrganisationKind
from storefront.api.services import api_key_issue
from tests.factories import (
    BudgetFactory,
    MembershipFactory,
    SegmentConditionFactory,
    SegmentMembershipFactory,
    SiteFactory,
    TerritoryFactory,
)

OUR_APPS = {"accounts", "segments", "territories"}
OUR_MODELS = sorted(
    (model._meta.app_label, model._meta.model_name)
    for model in admin.site._registry
    if model._meta.app_label in OUR_APPS
)


@pytest.fixture
def filled_admin(riverside, harbour, northgate):
    MembershipFactory(organisation=riverside, is_approver=True, approval_limit="5000.00")
    SiteFactory(organisation=riverside)
    BudgetFactory(cost_centre__organisation=riverside)
    SegmentConditionFactory()
    SegmentMembershipFactory(organisation=harbour)
    TerritoryFactory(code="london", name="London", is_region=True)
    api_key_issue(
        key=ApiKey(
            organisation=riverside, user=MembershipFactory(organisation=riverside).user,
            name="ERP", scopes=["catalogue:read"],
        ),
        created_by=None,
    )


FOUNDATION_MODELS = [
    ("accounts", "apikey"), ("accounts", "budget"), ("accounts", "costcentre"),
    ("accounts", "membership"), ("accounts", "organisation"), ("accounts", "site"),
    ("accounts", "user"), ("segments", "segment"), ("segments", "segmentmembership"),
    ("territories", "postcodearea"), ("territories", "territory"),
]


def test_every_model_of_the_foundation_is_in_the_admin():
    assert set(OUR_MODELS) >= set(FOUNDATION_MODELS)


@pytest.mark.parametrize(("app_label", "model_name"), FOUNDATION_MODELS)
def test_superuser_opens_list_add_and_change_pages(
    client, superuser, filled_admin, app_label, model_name
):
    client.force_login(superuser)
    model = next(
        m for m in admin.site._registry if m._meta.label_lower == f"{app_label}.{model_name}"
    )
    row = model._default_manager.first()

    listing = client.get(reverse(f"admin:{app_label}_{model_name}_changelist"))
    adding = client.get(reverse(f"admin:{app_label}_{model_name}_add"))
    changing = client.get(reverse(f"admin:{app_label}_{model_name}_change", args=[row.pk]))

    assert (listing.status_code, adding.status_code, changing.status_code) == (200, 200, 200)


def test_organisation_search_and_filters(client, superuser, riverside, harbour, northgate):
    client.force_login(superuser)
    url = reverse("admin:accounts_organisation_changelist")

    by_ods = client.get(url, {"q": "RNG"})
    clinics = client.get(url, {"kind__exact": OrganisationKind.PRIVATE_CLINIC})

    assert [o.name for o in by_ods.context["cl"].result_list] == ["Northgate Hospitals NHS Trust"]
    assert [o.name for o in clinics.context["cl"].result_list] == ["Harbour Physiotherapy Clinic"]


def test_account_manager_admin_index_lists_only_what_account_managers_look_after(
    client, manager, riverside
):
    client.force_login(manager)

    response = client.get(reverse("admin:index"))

    apps = {app["app_label"]: {m["object_name"] for m in app["models"]}
            for app in response.context["app_list"]}
    assert apps == {
        "accounts": {
            "ApiKey", "Budget", "CostCentre", "Membership", "Organisation", "Site", "User",
        },
        "catalog": {"Recall"},  # the trace of their organisations' rows
        "pricing": {"Contract", "PriceImport", "PriceList", "PriceListItem", "Quote"},
        "ordering": {"Order", "OutboxEvent", "ShipmentLot", "WebhookDelivery",
                     "WebhookEndpoint"},
        "territories": {"DistributorProfile", "TerritoryRight"},
        "segments": {"PropensityScore"},  # who of their organisations is likely to order what
        "insights": {"PricingMonitor"},  # figures over their own book only
    }
