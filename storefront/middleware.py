"""Headers every response gets from one place: the Content-Security-Policy, and `Cache-Control`
for responses that depend on who is asking.

Responses that depend on who is asking are never kept by a shared cache.

A response is personal when the request read the session (the signed-in user, the buyer, the
active organisation all come from it) or carried an `Authorization` header (an API key). Such a
response says `Cache-Control: private, no-cache, no-store, max-age=0` and varies on what it read,
whatever the view set: one rule here rather than a decorator on every view. Responses that read
neither, such as static files, keep whatever caching they chose.
"""

from csp.middleware import CSPMiddleware
from django.utils.cache import patch_cache_control, patch_vary_headers

ADMIN_PREFIX = "/admin/"
# Admin templates of django-import-export and django-simple-history set a few style attributes.
ADMIN_POLICY = {"style-src-attr": ["'unsafe-inline'"]}


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's policy from settings; under /admin/ style attributes are allowed too (never
    scripts), so third-party admin pages keep their layout."""

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if request.path_info.startswith(ADMIN_PREFIX):
            parts.update = {**ADMIN_POLICY, **(parts.update or {})}
        return parts


def _read_the_session(request) -> bool:
    session = getattr(request, "session", None)
    return session is not None and session.accessed


def _carried_credentials(request) -> bool:
    return "HTTP_AUTHORIZATION" in request.META


def _is_api_answer(request, response) -> bool:
    return getattr(response, "accepted_renderer", None) is not None or request.path.startswith(
        "/api/"
    )


class PersonalResponseMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        by_session = _read_the_session(request)
        by_key = _carried_credentials(request) or _is_api_answer(request, response)
        if not (by_session or by_key):
            return response
        patch_cache_control(response, private=True, no_cache=True, no_store=True, max_age=0)
        patch_vary_headers(
            response, (["Cookie"] if by_session else []) + (["Authorization"] if by_key else [])
        )
        return response
