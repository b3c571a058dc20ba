from django.http import JsonResponse
from django.shortcuts import render
from django.views import defaults
from django.views.decorators.cache import cache_control

from merchandising.services import impressions_record
from storefront.api.errors import error_body
from storefront.lockout import lockout_message, lockout_minutes, lockout_seconds
from storefront.selectors import home_page


@cache_control(private=True, no_cache=True)
def home(request):
    """The front page as the resolver sees the buyer: their role's panels and the content their
    segments call for (noted as shown to them)."""
    page = home_page(request.buyer)
    impressions_record(buyer=request.buyer, blocks=page.blocks)
    return render(request, "home.html", {"home": page})


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request, exception):
    """An unknown address under /api/ answers in the API's JSON error format, elsewhere a page."""
    if _is_api(request):
        return JsonResponse(error_body("not_found", "No such endpoint or object."), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return JsonResponse(
            error_body("server_error", "Something went wrong on our side."),
            status=500,
        )
    return defaults.server_error(request)


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out sign-in: the API's error format under /api/, a page
    elsewhere (the storefront's and the admin's sign-in alike). 429 either way."""
    if _is_api(request):
        response = JsonResponse(
            error_body("locked_out", lockout_message(request)), status=429
        )
    else:
        response = render(
            request, "registration/locked_out.html",
            {"minutes": lockout_minutes(request)}, status=429,
        )
    response["Retry-After"] = str(lockout_seconds(request))
    return response
