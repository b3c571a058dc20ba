"""Complementary products learned from order history: which products are ordered together
(item-to-item co-occurrence) and which products a group of buyers favours, each per scope — every
buyer, one segment or one cluster — recomputed with the segment job
(`merchandising.services.recompute_affinities`).

Both tables hold derived rows that every recompute rebuilds whole, so the database checks none of
their foreign keys (thousands of deferred checks at commit); deleting a product still deletes its
rows through the ORM's cascade.
"""

from django.db import models

EVERYONE = "everyone"


def segment_scope(code: str) -> str:
    """The scope of the buyers in one segment (static or computed)."""
    return f"segment:{code}"


def cluster_scope(cluster_id: int) -> str:
    """The scope of the buyers in one current cluster."""
    return f"cluster:{cluster_id}"


def _product(related_name: str = "+", db_index: bool = True) -> models.ForeignKey:
    return models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, related_name=related_name,
        db_constraint=False, db_index=db_index,
    )


class ProductAffinity(models.Model):
    """Within one scope: of the orders holding `product`, how many also held `other`.

    support = orders holding both; confidence = support ÷ orders holding `product`;
    lift = confidence ÷ (orders holding `other` ÷ all orders of the scope): above 1, the two are
    ordered together more often than chance would have it."""

    scope = models.CharField(max_length=120)
    product = _product(db_index=False)
    other = _product(db_index=False)
    support = models.PositiveIntegerField(help_text="Orders holding both products.")
    scope_orders = models.PositiveIntegerField(help_text="Orders of the scope counted.")
    confidence = models.FloatField(help_text="Share of the orders of the product that hold the "
                                   "other one.")
    lift = models.FloatField(help_text="Confidence against the other product's share of all "
                             "orders: above 1, ordered together more often than by chance.")
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "product affinities"
        ordering = ["scope", "product", "-lift"]
        constraints = [
            models.UniqueConstraint(fields=["product", "scope", "other"],
                                    name="product_affinity_once"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} → {self.other_id} ({self.scope}, lift {self.lift:.2f})"


class PeerFavourite(models.Model):
    """A product that the buyers of one scope order: how many of them did, their share, and how
    much likelier they are to order it than buyers at large (lift)."""

    scope = models.CharField(max_length=120)
    product = _product(db_index=False)
    buyers = models.PositiveIntegerField(help_text="Buyers of the scope who ordered it.")
    share = models.FloatField(help_text="Those buyers' share of the scope's buyers.")
    lift = models.FloatField(help_text="That share against the share among all buyers.")
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["scope", "-lift", "-share"]
        constraints = [
            models.UniqueConstraint(fields=["scope", "product"], name="peer_favourite_once"),
        ]

    def __str__(self) -> str:
        return f"{self.scope}: {self.product_id} ({self.share:.0%})"
