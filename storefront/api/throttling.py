"""Request rates: each API key has its own allowance, a browser session its user's, anonymous
callers their address's. Rates are set in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]."""

from rest_framework.throttling import SimpleRateThrottle

from .authentication import api_key_of


class PerKeyRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_cache_key(self, request, view):
        key = api_key_of(request)
        if key is not None:
            ident = f"key-{key.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"anon-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
