"""Property: whatever products staff feature, each buyer sees exactly those of them the catalogue
rules let them see (the world's own table of who sees what), each at their own channel's price."""

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from merchandising.models import BlockKind, ContentBlock
from merchandising.selectors import blocks_for
from tests.catalog.world import PERSONA_SEES
from tests.factories.merchandising import make_block

PRODUCT_KEYS = ["foam", "silver", "plasters", "latex_gloves", "excluded_plasters", "recalled",
                "inactive", "blade", "riverside_pack", "stick", "cannula"]
# The world prices every product at 10.00 on the list (B2B) and 14.99 retail (B2C), net.
EXPECTED_NET = {"nhs": "10.00", "trust2": "10.00", "clinic": "10.00", "distributor": "10.00",
                "patient": "14.99", "guest": "14.99"}


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chosen=st.sets(st.sampled_from(PRODUCT_KEYS), min_size=1, max_size=8),
       persona=st.sampled_from(sorted(PERSONA_SEES)))
def test_featured_products_are_the_chosen_ones_the_buyer_may_see_at_their_price(
    world, buyer_of, chosen, persona
):
    ContentBlock.objects.all().delete()
    make_block(kind=BlockKind.FEATURED_PRODUCTS, products=[world.products[k] for k in chosen])

    (block,) = blocks_for(buyer_of(persona))

    skus = {world.products[k].sku for k in chosen & PERSONA_SEES[persona]}
    assert {item.product.sku for item in block.products} == skus
    for item in block.products:
        assert item.price.unit_price == Decimal(EXPECTED_NET[persona])
