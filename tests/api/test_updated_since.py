"""Incremental sync of the catalogue and contracts: `updated_since` returns what changed since —
a product whose record or price rows changed, a contract changed — and nothing else; the rows
carry `updated_at`."""

import datetime
from decimal import Decimal

from django.utils import timezone

from catalog.models import Product
from pricing.models import Contract, PriceListItem
from pricing.services import contract_save, price_list_item_save
from tests.api.conftest import issue_key, key_client


def _age_everything(days: int = 2):
    long_ago = timezone.now() - datetime.timedelta(days=days)
    Product.objects.update(updated_at=long_ago)
    PriceListItem.objects.update(updated_at=long_ago)
    Contract.objects.update(updated_at=long_ago)
    return timezone.now() - datetime.timedelta(days=1)


def test_products_changed_in_their_record_or_their_prices_are_listed(world):
    since = _age_everything()
    client = key_client(issue_key(world.trust, world.trust_buyer))
    world.trust_only.name = "Trust dressing, renamed"
    world.trust_only.save()
    item = PriceListItem.objects.get(price_list=world.contract_list, product=world.shared,
                                     min_quantity=1)
    item.unit_price = Decimal("8.10")
    price_list_item_save(item=item)

    changed = client.get("/api/v1/products/", {"updated_since": since.isoformat()}).json()
    everything = client.get("/api/v1/products/").json()

    assert sorted(row["sku"] for row in changed["results"]) == ["WC-SHARED", "WC-TRUST"]
    assert len(everything["results"]) == 2
    rows = {row["sku"]: row for row in changed["results"]}
    assert rows["WC-SHARED"]["price"]["unit_price"] == "8.1000"
    assert datetime.datetime.fromisoformat(rows["WC-TRUST"]["updated_at"]) >= since
    # A price row's change dates the product too: the next sync starts after it.
    assert datetime.datetime.fromisoformat(rows["WC-SHARED"]["updated_at"]) >= since


def test_nothing_changed_lists_nothing_and_a_clinic_sees_only_its_own_changes(world):
    since = _age_everything()
    world.clinic_only.name = "Clinic gel, renamed"
    world.clinic_only.save()
    trust = key_client(issue_key(world.trust, world.trust_buyer))
    clinic = key_client(issue_key(world.clinic, world.clinic_buyer))

    assert trust.get("/api/v1/products/", {"updated_since": since.isoformat()}).json()[
        "results"] == []
    assert [row["sku"] for row in clinic.get(
        "/api/v1/products/", {"updated_since": since.isoformat()}).json()["results"]] == [
        "WC-CLINIC"]


def test_contracts_changed_since_are_listed_with_updated_at(world):
    since = _age_everything()
    client = key_client(issue_key(world.trust, world.trust_buyer))
    before = client.get("/api/v1/contracts/", {"updated_since": since.isoformat()}).json()

    contract = Contract.objects.get(pk=world.contract.pk)
    contract.note = "Lot 3 extended"
    contract_save(contract=contract)
    after = client.get("/api/v1/contracts/", {"updated_since": since.isoformat()}).json()

    assert before["results"] == []
    assert [row["reference"] for row in after["results"]] == ["NHS-2025-118"]
    assert datetime.datetime.fromisoformat(after["results"][0]["updated_at"]) >= since
