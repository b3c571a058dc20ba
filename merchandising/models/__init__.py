"""Merchandising: what a buyer's segments put in front of them — front-page content, offers and
complementary products — always through the catalogue's, price engine's and territory's rules."""

from .affinities import (
    EVERYONE,
    PeerFavourite,
    ProductAffinity,
    cluster_scope,
    segment_scope,
)
from .blocks import BlockAudience, BlockImpression, BlockKind, ContentBlock, OfferReport

__all__ = [
    "EVERYONE",
    "BlockAudience",
    "BlockImpression",
    "BlockKind",
    "ContentBlock",
    "OfferReport",
    "PeerFavourite",
    "ProductAffinity",
    "cluster_scope",
    "segment_scope",
]
