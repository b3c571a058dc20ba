from django.contrib.auth import views as auth_views
from django.urls import path

from . import views, views_api_keys

urlpatterns = [
    path("api-keys/", views_api_keys.ApiKeyListView.as_view(), name="api_key_list"),
    path("api-keys/issue/", views_api_keys.ApiKeyIssueView.as_view(), name="api_key_issue"),
    path(
        "api-keys/integration-approval/",
        views_api_keys.IntegrationApprovalView.as_view(),
        name="api_key_integration_approval",
    ),
    path(
        "api-keys/<int:pk>/revoke/",
        views_api_keys.ApiKeyRevokeView.as_view(),
        name="api_key_revoke",
    ),
    path("", views.AccountView.as_view(), name="account"),
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "organisation/choose/", views.ChooseOrganisationView.as_view(), name="choose_organisation"
    ),
    path(
        "organisation/switch/", views.OrganisationSwitchView.as_view(), name="organisation_switch"
    ),
    path("site/switch/", views.SiteSwitchView.as_view(), name="site_switch"),
    path("members/", views.MemberListView.as_view(), name="member_list"),
    path("members/add/", views.MemberAddView.as_view(), name="member_add"),
    path("members/<int:pk>/edit/", views.MemberEditView.as_view(), name="member_edit"),
    path("members/<int:pk>/remove/", views.MemberRemoveView.as_view(), name="member_remove"),
    path("sites/", views.SiteListView.as_view(), name="site_list"),
    path("sites/add/", views.SiteFormView.as_view(), name="site_add"),
    path("sites/<int:pk>/edit/", views.SiteFormView.as_view(), name="site_edit"),
    path("sites/<int:pk>/deactivate/", views.SiteDeactivateView.as_view(), name="site_deactivate"),
    path("cost-centres/", views.CostCentreListView.as_view(), name="cost_centre_list"),
    path("cost-centres/add/", views.CostCentreFormView.as_view(), name="cost_centre_add"),
    path(
        "cost-centres/<int:pk>/edit/", views.CostCentreFormView.as_view(), name="cost_centre_edit"
    ),
    path(
        "cost-centres/<int:cost_centre_pk>/budgets/add/",
        views.BudgetFormView.as_view(),
        name="budget_add",
    ),
    path(
        "cost-centres/<int:cost_centre_pk>/budgets/<int:pk>/edit/",
        views.BudgetFormView.as_view(),
        name="budget_edit",
    ),
]
