"""A VAT-relief declaration is checked by one rule: the declaration page and the checkout refuse the
same declarations with the same words, each at the field to correct; a refused declaration writes
nothing."""

import pytest
from django.urls import reverse

from ordering.errors import OrderError
from ordering.models import Order, ReliefDeclaration
from ordering.services.carts import cart_add
from ordering.services.checkout import (
    Declaration,
    DeliveryAddress,
    checkout_retail,
    checkout_review,
)

GOOD_CARD = "4242 4242 4242 4242"
HOME = DeliveryAddress("Pat Patient", "12 Denmark Hill, London", "SE5 9RS")
COMPLETE = {"full_name": "Pat Patient", "address": "12 Denmark Hill, London SE5 9RS",
            "condition": "Arthritis of both knees", "confirmed": True, "signed_on_behalf": False,
            "signer_name": "", "signer_relationship": ""}

INCOMPLETE = {
    "no condition": ({"condition": " "}, "condition"),
    "no name": ({"full_name": ""}, "full_name"),
    "not ticked": ({"confirmed": False}, "confirmed"),
    "signer without relationship": (
        {"signed_on_behalf": True, "signer_name": "Carys Carer"}, "signer_relationship"),
    "signer without name": (
        {"signed_on_behalf": True, "signer_relationship": "daughter"}, "signer_name"),
}


def _page_errors(client, facts: dict) -> dict:
    form = {k: v for k, v in facts.items() if v not in (False, "")}
    response = client.post(reverse("checkout_retail_relief"), {"claim": "yes", **form})
    assert response.status_code == 200
    return response.context["form"].errors


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(INCOMPLETE))
def test_the_page_and_the_checkout_refuse_a_declaration_alike_at_its_field(world, client, case):
    changes, field = INCOMPLETE[case]
    facts = {**COMPLETE, **changes}
    patient = world.buyer("patient")
    cart_add(buyer=patient, product_id=world.frame.pk, quantity=1)
    client.force_login(world.user("patient"))
    client.post(reverse("checkout_retail_address"), {
        "name": "Pat Patient", "address": "12 Denmark Hill", "postcode": "SE5 9RS"})
    token = checkout_review(buyer=patient, relief=True).price_token

    errors = _page_errors(client, facts)
    with pytest.raises(OrderError) as refused:
        checkout_retail(buyer=patient, address=HOME, card_number=GOOD_CARD,
                        expected_token=token, declaration=Declaration(**facts))

    assert "__all__" not in errors
    assert refused.value.message in errors[field]
    assert refused.value.code.startswith("declaration_")
    assert not Order.objects.exists() and not ReliefDeclaration.objects.exists()
