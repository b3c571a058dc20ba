"""Headers every response gets from one place: the Content-Security-Policy, and `Cache-Control`
for responses that depend on who is asking.

Responses that depend on who is asking are never kept by a shared cache.

A response is personal when the request read the session (the signed-in user, the buyer, the
active organisation all come from it) or carried an `Authorization` header (an API key). Such a
response says `Cache-Control: private, no-cache, no-store, max-age=0` and varies on what it read,
whatever the view set: one rule here rather than a decorator on every view. Responses that read
neither, such as static files, keep whatever caching they chose.
"""

import contextlib
import datetime
import hashlib

from csp.middleware import CSPMiddleware
from django.http import HttpResponseNotModified
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import http_date, parse_etags, parse_http_date_safe

from storefront.api.throttling import rate_limit_of

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


API_PREFIX = "/api/"


def _etag(content: bytes) -> str:
    return f'"{hashlib.sha256(content).hexdigest()[:32]}"'


def _newest_change(data) -> datetime.datetime | None:
    """The latest `updated_at` anywhere in a serialized answer — of the object, or of every
    object on the page — read from the answer itself, so it costs no query. None: it has none."""
    found = []
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key == "updated_at" and isinstance(value, str):
                    with contextlib.suppress(ValueError):
                        found.append(datetime.datetime.fromisoformat(value))
                elif isinstance(value, dict | list):
                    pending.append(value)
        elif isinstance(item, list):
            pending.extend(item)
    return max(found, default=None)


def _last_modified(response) -> int | None:
    """`Last-Modified` of an answer in whole seconds, or None when it has no date or its newest
    change is still in the current second: a second change within that same second would not
    move the date, so such a date is not given as a validator."""
    newest = _newest_change(getattr(response, "data", None))
    if newest is None:
        return None
    second = int(newest.timestamp())
    return second if second < int(timezone.now().timestamp()) else None


def _not_modified(request, etag: str, last_modified: int | None) -> bool:
    """RFC 9110 §13.2.2: `If-None-Match` decides when it is sent; otherwise `If-Modified-Since`
    does, where the answer has a date. A malformed date is ignored."""
    wanted = request.headers.get("If-None-Match")
    if wanted is not None:
        return wanted.strip() == "*" or etag in parse_etags(wanted)
    since = parse_http_date_safe(request.headers.get("If-Modified-Since") or "")
    return since is not None and last_modified is not None and last_modified <= since


class ApiConventionsMiddleware:
    """What every API answer carries: the caller's rate-limit standing, and for a successful read
    an `ETag` of its body and — when its objects carry `updated_at` — a `Last-Modified` of the
    newest of them, so that a repeat with `If-None-Match` or `If-Modified-Since` is a `304`
    without the body."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path_info.startswith(API_PREFIX):
            return response
        if request.method in ("GET", "HEAD") and response.status_code == 200 and not (
            response.streaming or response.has_header("ETag")
        ):
            response = self._validated(request, response)
        state = rate_limit_of(request)
        if state is not None:
            for name, value in state.headers().items():
                response[name] = value
        return response

    @staticmethod
    def _validated(request, response):
        """Give a read its validators; answer 304 when the caller's copy is still current."""
        etag = _etag(response.content)
        last_modified = _last_modified(response)
        headers = {"ETag": etag}
        if last_modified is not None:
            headers["Last-Modified"] = http_date(last_modified)
        if _not_modified(request, etag, last_modified):
            return HttpResponseNotModified(headers=headers)
        for name, value in headers.items():
            response[name] = value
        return response
