"""Each key has its own request allowance."""

import pytest

from storefront.api.throttling import PerKeyRateThrottle
from tests.api.conftest import issue_key, key_client


@pytest.mark.django_db
def test_a_key_over_its_rate_is_throttled_and_another_key_is_not(world, monkeypatch):
    monkeypatch.setattr(PerKeyRateThrottle, "THROTTLE_RATES", {"api": "2/minute"})
    busy = key_client(issue_key(world.trust, world.trust_buyer, name="Busy"))
    other = key_client(issue_key(world.trust, world.trust_buyer, name="Other"))

    statuses = [busy.get("/api/v1/me/").status_code for _ in range(3)]
    refused = busy.get("/api/v1/me/")

    assert statuses == [200, 200, 429]
    assert refused.json()["error"]["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    assert other.get("/api/v1/me/").status_code == 200
