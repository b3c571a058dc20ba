"""When Redis is unreachable the resolver still answers, from the database, and caches nothing."""

import pytest
from django.test import override_settings

from segments.resolver import resolve
from segments.versioning import rules_version
from tests.factories import MembershipFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 0.2,
            "SOCKET_TIMEOUT": 0.2,
        },
    }
}


def test_the_resolver_reads_from_the_database_when_the_cache_is_down():
    organisation = OrganisationFactory(name="Riverside")
    user = MembershipFactory(organisation=organisation).user

    with override_settings(CACHES=UNREACHABLE_REDIS, DJANGO_REDIS_IGNORE_EXCEPTIONS=True):
        assert rules_version() is None
        first = resolve(user)
        organisation.name = "Riverside University Hospitals"
        organisation.save()
        second = resolve(user)

    assert first.organisation_name == "Riverside"
    assert second.organisation_name == "Riverside University Hospitals"
