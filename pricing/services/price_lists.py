"""Saving price lists, their items and contracts."""
from django.db import transaction

from ..models import Contract, PriceList, PriceListItem
from .service_tiers import contract_service_tiers_sync


@transaction.atomic
def price_list_save(
    *, price_list: PriceList, segments=None, organisations=None, territories=None
) -> PriceList:
    """Create or update a price list; assignments given are set in full (None leaves them)."""
    price_list.full_clean()
    if price_list.pk:
        current = {
            "segments": list(price_list.segments.all()),
            "organisations": list(price_list.organisations.all()),
            "territories": list(price_list.territories.all()),
        }
    else:
        current = {"segments": [], "organisations": [], "territories": []}
    wanted = {
        "segments": current["segments"] if segments is None else list(segments),
        "organisations": current["organisations"] if organisations is None else list(organisations),
        "territories": current["territories"] if territories is None else list(territories),
    }
    price_list.clean_assignments(**wanted)
    price_list.save()
    for name, values in wanted.items():
        if values != current[name]:
            getattr(price_list, name).set(values)
    return price_list


@transaction.atomic
def price_list_item_save(*, item: PriceListItem) -> PriceListItem:
    item.full_clean()
    item.save()
    return item


@transaction.atomic
def contract_save(*, contract: Contract) -> Contract:
    contract.full_clean()
    contract.save()
    contract_service_tiers_sync()
    return contract
