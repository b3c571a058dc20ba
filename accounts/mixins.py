"""The one permission check of organisation self-service pages."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.utils.decorators import method_decorator
from django.views.decorators.cache import cache_control

from .permissions import MANAGE_ORGANISATION_OBJECT_PERM

private_page = cache_control(private=True, no_cache=True)


@method_decorator(private_page, name="dispatch")
class PersonalPageMixin(LoginRequiredMixin):
    """A signed-in page with personal data: anonymous visitors sign in first; no shared caching."""


class OrganisationAdminRequiredMixin(PersonalPageMixin):
    """Admits only holders of `accounts.manage_organisation` on the buyer's ACTIVE organisation.

    Being an admin of another organisation the user also belongs to grants nothing here; the view
    then finds objects through the selectors scoped to that same active organisation.
    """

    permission_required = MANAGE_ORGANISATION_OBJECT_PERM

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        organisation = request.buyer.organisation
        if organisation is None or not request.user.has_perm(
            self.permission_required, organisation
        ):
            raise PermissionDenied("Only an admin of this organisation can manage it.")
        self.organisation = organisation
        return super().dispatch(request, *args, **kwargs)
