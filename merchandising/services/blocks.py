"""Saving a block with its targets (validated together), and noting
which buyers were shown which blocks."""

import hashlib

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from segments.resolver import BuyerContext

from ..models import BlockImpression, ContentBlock

NOTED_SECONDS = 24 * 60 * 60


def content_block_save(*, block: ContentBlock, segments, products, categories) -> ContentBlock:
    """Save a block and its many-to-many choices, or raise ValidationError at the field at fault
    with nothing saved."""
    with transaction.atomic():
        block.full_clean()
        block.clean_targets(segments=list(segments), products=list(products),
                            categories=list(categories))
        block.save()
        block.segments.set(segments)
        block.products.set(products)
        block.categories.set(categories)
    return block


def _noted_key(buyer: BuyerContext, blocks, day) -> str:
    ids = ",".join(str(block.id) for block in sorted(blocks, key=lambda b: b.id))
    digest = hashlib.sha256(ids.encode()).hexdigest()[:16]
    return f"home-shown:{buyer.user_id}:{buyer.organisation_id}:{day.isoformat()}:{digest}"


def impressions_record(*, buyer: BuyerContext, blocks, now=None) -> int:
    """Note that a signed-in buyer was shown `blocks` today: one insert for the whole page, a row
    per block, buyer and day at most — and none at all when this buyer was already noted for the
    same blocks today. Guests are not recorded (nobody to name)."""
    if buyer.user_id is None or not blocks:
        return 0
    day = timezone.localdate(now or timezone.now())
    key = _noted_key(buyer, blocks, day)
    if cache.get(key):
        return 0
    rows = [
        BlockImpression(block_id=block.id, user_id=buyer.user_id,
                        organisation_id=buyer.organisation_id, day=day,
                        segments=", ".join(block.reasons)[:250])
        for block in blocks
    ]
    BlockImpression.objects.bulk_create(rows, ignore_conflicts=True)
    transaction.on_commit(lambda: cache.set(key, True, NOTED_SECONDS))
    return len(rows)
