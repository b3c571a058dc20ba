import pytest

from tests.ordering.conftest import build_world


@pytest.fixture
def ordering_world(db):
    """The ordering suite's world: a trust with wards, a distributor, a patient, list and retail
    prices."""
    return build_world()
