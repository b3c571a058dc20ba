"""The throttle in front of every sign-in (django-axes): a locked-out account and address pair is
refused before its password is checked."""

from axes.backends import AxesStandaloneBackend


class SignInThrottle(AxesStandaloneBackend):
    """django-axes' backend, except that a sign-in without a request (a management command, a
    script) has no address to throttle and is left to the other backends."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
