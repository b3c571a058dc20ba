"""The catalogue test world (NHS trusts, a clinic, a distributor, a consumer and a guest, each
with its own catalogue) reused for front-page content."""

import pytest

from segments.resolver import resolve
from tests.catalog.world import build_world


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def buyer_of(world):
    def buyer(persona: str):
        return resolve(world.users[persona])

    return buyer


@pytest.fixture
def admin_client(client, db):
    """A client signed in as a superuser (the user model signs in by email)."""
    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client
