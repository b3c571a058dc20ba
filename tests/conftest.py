import os

import pytest
from django.core.cache import cache
from django.db import connection

# The guarantees suite's probe tally, loaded here so that a parallel run's controller prints it.
pytest_plugins = ["tests.guarantees.tally"]


def _clear_own_cache():
    # django-redis: delete only this worker's prefixed keys, never the whole Redis database.
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("*")
    else:
        cache.clear()


@pytest.fixture(autouse=True, scope="session")
def _no_shared_cache_flush():
    """The test workers share one Redis database, each under its own key prefix: a test that
    empties the whole database takes the other worker's warm cache with it."""
    try:
        from django_redis.cache import RedisCache
    except ImportError:
        yield
        return

    def refuse(self):
        raise AssertionError("cache.clear() flushes every worker's keys: use delete_pattern('*')")

    original, RedisCache.clear = RedisCache.clear, refuse
    yield
    RedisCache.clear = original


@pytest.fixture(autouse=True)
def _fresh_cache():
    _clear_own_cache()
    yield
    _clear_own_cache()


@pytest.fixture
def requires_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL (see README, 'Running against PostgreSQL')")


@pytest.fixture
def requires_redis():
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs Redis: set REDIS_URL (see README, 'Running against PostgreSQL')")



def _reload_reference_data():
    """Reference rows loaded by migrations (postcode areas, regions) are back after a flush."""
    import importlib

    from django.apps import apps

    from territories.models import PostcodeArea

    if not PostcodeArea.objects.exists():
        migration = importlib.import_module(
            "territories.migrations.0002_postcode_areas_and_regions"
        )
        migration.load_areas_and_regions(apps, None)


@pytest.fixture(autouse=True)
def _reference_data(request, django_db_blocker):
    """Transactional tests (live server, concurrency) end with a flush that empties every table;
    the next test on the same worker finds the reference data restored before it starts."""
    uses_db = request.node.get_closest_marker("django_db") is not None or any(
        name in request.fixturenames
        for name in ("db", "transactional_db", "live_server", "django_db_setup")
    )
    if uses_db:
        with django_db_blocker.unblock():
            _reload_reference_data()
    yield


@pytest.fixture(scope="module")
def demo_world(django_db_setup, django_db_blocker):
    """The whole demo world, built once per test module and rolled back after its last test."""
    from django.db import transaction

    from storefront.demo import load_demo_world

    with django_db_blocker.unblock(), transaction.atomic():
        _clear_own_cache()
        yield load_demo_world()
        transaction.set_rollback(True)
