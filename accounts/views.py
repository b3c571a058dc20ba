"""Buyer-facing account pages: sign in, who am I buying as, switchers, organisation self-service."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views import View

from segments.middleware import ACTIVE_ORGANISATION_SESSION_KEY, ACTIVE_SITE_SESSION_KEY
from segments.resolver import resolve
from segments.selectors import buyer_segments

from . import services
from .forms import (
    BudgetForm,
    CostCentreForm,
    MemberAddForm,
    MemberRolesForm,
    SignInForm,
    SiteEditForm,
    SiteForm,
    add_validation_errors,
)
from .mixins import OrganisationAdminRequiredMixin, PersonalPageMixin
from .models import Budget, CostCentre, Membership, Role, Site, VerificationStatus
from .selectors import (
    organisation_cost_centres,
    organisation_members,
    organisation_sites,
)


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(fallback)


def _posted_id(request, name: str) -> int:
    try:
        return int(request.POST.get(name, ""))
    except ValueError:
        raise Http404(f"No such {name}.") from None


def role_labels(roles) -> list[str]:
    return [Role(role).label for role in Role.values if role in roles]


class SignInView(auth_views.LoginView):
    """Email and password; a member of several organisations next chooses which one to buy for."""

    form_class = SignInForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        self.request.session.pop(ACTIVE_ORGANISATION_SESSION_KEY, None)
        self.request.session.pop(ACTIVE_SITE_SESSION_KEY, None)
        if len(resolve(form.get_user()).organisations) > 1:
            choose = reverse("choose_organisation")
            next_url = self.get_redirect_url()
            return HttpResponseRedirect(
                f"{choose}?{urlencode({'next': next_url})}" if next_url else choose
            )
        return response


class AccountView(PersonalPageMixin, View):
    """Who the signed-in buyer is, exactly as the resolver sees them."""

    def get(self, request):
        buyer = request.buyer
        return render(
            request,
            "accounts/account.html",
            {
                "roles": role_labels(buyer.roles),
                "segments": buyer_segments(buyer=buyer),
                "professional_label": (
                    VerificationStatus.VERIFIED.label
                    if buyer.professional
                    else VerificationStatus.UNVERIFIED.label
                ),
            },
        )


class ChooseOrganisationView(PersonalPageMixin, View):
    def get(self, request):
        return render(
            request, "accounts/choose_organisation.html", {"next": _safe_next(request, "home")}
        )


class OrganisationSwitchView(LoginRequiredMixin, View):
    """Make another of the user's organisations the active one; a non-member's choice is a 404."""

    def post(self, request):
        organisation_id = _posted_id(request, "organisation")
        if organisation_id not in dict(request.buyer.organisations):
            raise Http404("You are not a member of that organisation.")
        request.session[ACTIVE_ORGANISATION_SESSION_KEY] = organisation_id
        request.session.pop(ACTIVE_SITE_SESSION_KEY, None)
        return redirect(_safe_next(request, "home"))


class SiteSwitchView(LoginRequiredMixin, View):
    """Deliver to another active site of the active organisation; any other site is a 404."""

    def post(self, request):
        sites = organisation_sites(buyer=request.buyer).filter(is_active=True)
        site = get_object_or_404(sites, pk=_posted_id(request, "site"))
        request.session[ACTIVE_SITE_SESSION_KEY] = site.pk
        return redirect(_safe_next(request, "home"))


# Organisation self-service: members ------------------------------------------------------------


class MemberListView(OrganisationAdminRequiredMixin, View):
    def get(self, request):
        members = [
            (membership, role_labels(membership.roles))
            for membership in organisation_members(buyer=request.buyer)
        ]
        return render(request, "accounts/member_list.html", {"members": members})


def _member_add(*, organisation, form: MemberAddForm) -> Membership:
    """Add the person to the organisation, creating their account (no password yet) if needed."""
    return services.member_invite(
        organisation=organisation,
        email=form.cleaned_data["email"],
        full_name=form.cleaned_data["full_name"],
        membership=form.apply_to(Membership()),
    )


class MemberAddView(OrganisationAdminRequiredMixin, View):
    template_name = "accounts/member_form.html"

    def get(self, request):
        form = MemberAddForm(members=organisation_members(buyer=request.buyer))
        return render(request, self.template_name, {"form": form, "adding": True})

    def post(self, request):
        form = MemberAddForm(request.POST, members=organisation_members(buyer=request.buyer))
        if form.is_valid():
            try:
                membership = _member_add(organisation=self.organisation, form=form)
            except ValidationError as error:
                add_validation_errors(form, error)
            else:
                messages.success(request, f"{membership.user.email} is now a member.")
                return redirect("member_list")
        return render(request, self.template_name, {"form": form, "adding": True}, status=400)


class MemberEditView(OrganisationAdminRequiredMixin, View):
    template_name = "accounts/member_form.html"

    def get(self, request, pk):
        membership = get_object_or_404(organisation_members(buyer=request.buyer), pk=pk)
        form = MemberRolesForm(initial=MemberRolesForm.initial_for(membership))
        return render(request, self.template_name, {"form": form, "membership": membership})

    def post(self, request, pk):
        membership = get_object_or_404(organisation_members(buyer=request.buyer), pk=pk)
        form = MemberRolesForm(request.POST)
        if form.is_valid():
            try:
                services.membership_save(membership=form.apply_to(membership))
            except ValidationError as error:
                add_validation_errors(form, error)
            else:
                messages.success(request, f"Roles of {membership.user.email} saved.")
                return redirect("member_list")
        context = {"form": form, "membership": membership}
        return render(request, self.template_name, context, status=400)


class MemberRemoveView(OrganisationAdminRequiredMixin, View):
    template_name = "accounts/member_confirm_remove.html"

    def get(self, request, pk):
        membership = get_object_or_404(organisation_members(buyer=request.buyer), pk=pk)
        return render(request, self.template_name, {"membership": membership})

    def post(self, request, pk):
        membership = get_object_or_404(organisation_members(buyer=request.buyer), pk=pk)
        services.membership_remove(membership=membership)
        messages.success(request, f"{membership.user.email} is no longer a member.")
        return redirect("member_list")


# Organisation self-service: sites --------------------------------------------------------------


class SiteListView(OrganisationAdminRequiredMixin, View):
    def get(self, request):
        sites = organisation_sites(buyer=request.buyer)
        return render(request, "accounts/site_list.html", {"sites": sites})


class SiteFormView(OrganisationAdminRequiredMixin, View):
    """Add a site (no pk) or edit one of the active organisation's sites."""

    template_name = "accounts/site_form.html"

    def _site(self, pk) -> Site:
        if pk is None:
            return Site(organisation=self.organisation)
        return get_object_or_404(organisation_sites(buyer=self.request.buyer), pk=pk)

    def _form_class(self, pk):
        return SiteForm if pk is None else SiteEditForm

    def get(self, request, pk=None):
        site = self._site(pk)
        form = self._form_class(pk)(instance=site)
        return render(request, self.template_name, {"form": form, "site": site})

    def post(self, request, pk=None):
        site = self._site(pk)
        form = self._form_class(pk)(request.POST, instance=site)
        if form.is_valid():
            try:
                services.site_save(site=form.instance)
            except ValidationError as error:
                add_validation_errors(form, error)
            else:
                messages.success(request, f"Site {site.name} saved.")
                return redirect("site_list")
        return render(request, self.template_name, {"form": form, "site": site}, status=400)


class SiteDeactivateView(OrganisationAdminRequiredMixin, View):
    """Stop deliveries to a site; it stays on record for past orders."""

    def post(self, request, pk):
        site = get_object_or_404(organisation_sites(buyer=request.buyer), pk=pk)
        site.is_active = False
        services.site_save(site=site)
        messages.success(request, f"Site {site.name} deactivated.")
        return redirect("site_list")


# Organisation self-service: cost centres -------------------------------------------------------


class CostCentreListView(OrganisationAdminRequiredMixin, View):
    def get(self, request):
        cost_centres = organisation_cost_centres(buyer=request.buyer)
        return render(request, "accounts/cost_centre_list.html", {"cost_centres": cost_centres})


class CostCentreFormView(OrganisationAdminRequiredMixin, View):
    """Add a cost centre (no pk) or edit one of the active organisation's, showing its budgets."""

    template_name = "accounts/cost_centre_form.html"

    def _cost_centre(self, pk) -> CostCentre:
        if pk is None:
            return CostCentre(organisation=self.organisation)
        return get_object_or_404(organisation_cost_centres(buyer=self.request.buyer), pk=pk)

    def get(self, request, pk=None):
        cost_centre = self._cost_centre(pk)
        form = CostCentreForm(instance=cost_centre)
        return render(request, self.template_name, {"form": form, "cost_centre": cost_centre})

    def post(self, request, pk=None):
        cost_centre = self._cost_centre(pk)
        form = CostCentreForm(request.POST, instance=cost_centre)
        if form.is_valid():
            try:
                services.cost_centre_save(cost_centre=form.instance)
            except ValidationError as error:
                add_validation_errors(form, error)
            else:
                messages.success(request, f"Cost centre {cost_centre.code} saved.")
                return redirect("cost_centre_list")
        context = {"form": form, "cost_centre": cost_centre}
        return render(request, self.template_name, context, status=400)


class BudgetFormView(OrganisationAdminRequiredMixin, View):
    """Set a cost centre's budget for a period (add, or edit one of its budgets)."""

    template_name = "accounts/budget_form.html"

    def _budget(self, cost_centre_pk, pk) -> Budget:
        cost_centre = get_object_or_404(
            organisation_cost_centres(buyer=self.request.buyer), pk=cost_centre_pk
        )
        if pk is None:
            return Budget(cost_centre=cost_centre)
        return get_object_or_404(cost_centre.budgets.all(), pk=pk)

    def get(self, request, cost_centre_pk, pk=None):
        budget = self._budget(cost_centre_pk, pk)
        form = BudgetForm(instance=budget)
        return render(request, self.template_name, {"form": form, "budget": budget})

    def post(self, request, cost_centre_pk, pk=None):
        budget = self._budget(cost_centre_pk, pk)
        form = BudgetForm(request.POST, instance=budget)
        if form.is_valid():
            try:
                services.budget_save(budget=form.instance)
            except ValidationError as error:
                add_validation_errors(form, error)
            else:
                messages.success(request, f"Budget for {budget.cost_centre.code} saved.")
                return redirect("cost_centre_edit", pk=budget.cost_centre_id)
        return render(request, self.template_name, {"form": form, "budget": budget}, status=400)
