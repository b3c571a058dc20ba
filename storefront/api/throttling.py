"""Request rates: each API key has its own allowance, a browser session its user's, anonymous
callers their address's. Rates are set in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].

Every API answer tells the caller where it stands (`RateLimit-Limit`, `RateLimit-Remaining`,
`RateLimit-Reset` in seconds): from the throttle's own count when the request was counted, else
read from the same count without adding to it (a refused or unknown request)."""

import math
from dataclasses import dataclass

from rest_framework.throttling import SimpleRateThrottle

from .authentication import api_key_of


@dataclass(frozen=True)
class RateLimitState:
    limit: int
    remaining: int
    reset: int

    def headers(self) -> dict[str, str]:
        return {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.remaining),
                "RateLimit-Reset": str(self.reset)}


class PerKeyRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_cache_key(self, request, view):
        key = api_key_of(request) if hasattr(request, "auth") else None
        user = getattr(request, "user", None)
        if key is not None:
            ident = f"key-{key.pk}"
        elif user is not None and user.is_authenticated:
            ident = f"user-{user.pk}"
        else:
            ident = f"anon-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view):
        allowed = super().allow_request(request, view)
        if self.rate is not None:
            request._request.rate_limit = self.state()
        return allowed

    def state(self) -> RateLimitState:
        """Where the caller stands after this request, from the history just read."""
        history = [t for t in self.history if t > self.now - self.duration]
        reset = math.ceil(history[-1] + self.duration - self.now) if history else 0
        return RateLimitState(self.num_requests, max(self.num_requests - len(history), 0),
                              max(reset, 0))

    def peek(self, request) -> RateLimitState | None:
        """The caller's standing without counting a request."""
        if self.rate is None:
            return None
        self.history = self.cache.get(self.get_cache_key(request, None), [])
        self.now = self.timer()
        return self.state()


def rate_limit_of(request) -> RateLimitState | None:
    return getattr(request, "rate_limit", None) or PerKeyRateThrottle().peek(request)
