"""Reads of merchandising: the front-page blocks a buyer sees (`blocks`) and the complementary
products recommended to them (`recommendations`), each through the catalogue's, price engine's
and territory's rules for that buyer."""

from .blocks import (
    FeaturedCategory,
    FeaturedProduct,
    ShownBlock,
    blocks_for,
    blocks_with_reach,
    compose_blocks,
    impressions_of,
    live_q,
    targeted_q,
)
from .recommendations import (
    Recommendation,
    bump_figures_version,
    complementary_for,
    peers_also_order,
)

__all__ = [
    "FeaturedCategory",
    "FeaturedProduct",
    "Recommendation",
    "ShownBlock",
    "blocks_for",
    "blocks_with_reach",
    "bump_figures_version",
    "complementary_for",
    "compose_blocks",
    "impressions_of",
    "live_q",
    "peers_also_order",
    "targeted_q",
]
