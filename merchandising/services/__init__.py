"""Writes of merchandising: content blocks and their impressions (`blocks`), and the recompute of
complementary products from the order history (`affinities`)."""

from .affinities import AffinitySettings, recompute_affinities
from .blocks import content_block_save, impressions_record

__all__ = ["AffinitySettings", "content_block_save", "impressions_record", "recompute_affinities"]
