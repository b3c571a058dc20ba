"""Merchandising: what a buyer's segments put in front of them — front-page content, offers and
complementary products — always through the catalogue's, price engine's and territory's rules."""

from .blocks import BlockAudience, BlockImpression, BlockKind, ContentBlock, OfferReport

__all__ = ["BlockAudience", "BlockImpression", "BlockKind", "ContentBlock", "OfferReport"]
