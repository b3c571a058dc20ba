"""Sets `request.buyer`: the resolver's answer for the user, active organisation and site."""

from django.utils.functional import SimpleLazyObject

from .resolver import resolve

ACTIVE_ORGANISATION_SESSION_KEY = "active_organisation_id"
ACTIVE_SITE_SESSION_KEY = "active_site_id"


def buyer_for_request(request):
    session = getattr(request, "session", None) or {}
    buyer = resolve(
        getattr(request, "user", None),
        organisation=session.get(ACTIVE_ORGANISATION_SESSION_KEY),
        site=session.get(ACTIVE_SITE_SESSION_KEY),
    )
    return buyer


class BuyerMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.buyer = SimpleLazyObject(lambda: buyer_for_request(request))
        return self.get_response(request)
