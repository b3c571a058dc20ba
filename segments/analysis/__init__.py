"""The segmentation analysis: purchase-history facts, RFM, value tiers and lapsing, clusters and
buying propensity, and the computed memberships they decide. Each module reads and writes the
tables of `segments.models.analysis`; `segments.services.recompute_segments` runs them in order."""

# An order counts as a purchase once it is committed to fulfilment; one awaiting payment or
# approval, rejected, declined by its distributor or cancelled does not.
COUNTED_STATES = (
    "approved",
    "submitted",
    "routed",
    "accepted_by_distributor",
    "allocated",
    "partly_backordered",
    "shipped",
    "delivered",
)
