"""The front page of a visitor who is not signed in: the consumer catalogue's landing page."""

import pytest
from django.urls import reverse

from merchandising.models import BlockAudience, BlockKind
from tests.catalog.world import build_world
from tests.factories.merchandising import make_block


@pytest.fixture
def world(db):
    return build_world()


def test_a_visitor_gets_the_consumer_catalogues_categories_and_a_sign_in_prompt(client, world):
    page = client.get("/").content.decode()

    assert 'data-panel="landing"' in page
    assert reverse("login") in page
    assert reverse("category_browse", args=["mobility"]) in page
    assert reverse("category_browse", args=["surgical-instruments"]) not in page
    assert 'data-panel="orders"' not in page


def test_a_guest_block_featuring_categories_replaces_the_default_list(client, world):
    make_block(title="For your home", kind=BlockKind.FEATURED_CATEGORIES,
               audience=BlockAudience.GUESTS, categories=[world.categories["walking-aids"]])

    page = client.get("/").content.decode()

    assert "For your home" in page
    assert reverse("category_browse", args=["walking-aids"]) in page
    assert 'data-panel="categories"' not in page
    client.force_login(world.users["patient"])
    assert "For your home" not in client.get("/").content.decode()
