"""Fixtures for catalogue tests; the world itself is built in tests/catalog/world.py."""

import pytest

from .world import PERSONA_SEES, World, build_world, price_everything

__all__ = ["PERSONA_SEES", "World", "price_everything"]


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def client_for(client, world):
    """A test client signed in as a persona of the world (None: a guest)."""

    def sign_in(persona: str):
        user = world.users[persona]
        client.logout()
        if user is not None:
            client.force_login(user)
        return client

    return sign_in
