"""Tests: fast password hashing, eager Celery unless a test starts a real worker."""

import os

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = REDIS_URL or "memory://"  # noqa: F405
DEBUG = False

# Each pytest-xdist worker has its own database, so it gets its own cache namespace too.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")  # noqa: F405
CACHES["default"]["KEY_PREFIX"] = f"test-{_WORKER}"  # noqa: F405
if not REDIS_URL:  # noqa: F405
    CACHES["default"]["LOCATION"] = f"storefront-{_WORKER}"  # noqa: F405

# Connections are not kept between requests: a live server's or a worker's thread leaves none open
# when the test database is dropped.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
