"""The demo world's rights give each persona the protected or restricted line DEMO.md promises, and
loading them twice changes nothing. One test: loading the demo world is slow."""

import pytest
from django.db.models import Q

from accounts.models import User
from catalog.models import Category
from catalog.selectors import visible_products
from segments.resolver import resolve
from storefront.demo import load_demo_world
from storefront.demo.territories import RIGHTS, load_territories
from territories.models import DistributorProfile, TerritoryRestriction, TerritoryRight
from territories.rules import availability_for
from territories.selectors import right_conflicts

pytestmark = pytest.mark.django_db


def _availability(email: str):
    buyer = resolve(User.objects.get(email=email))
    products = {p.pk: p for p in visible_products(buyer).select_related("category")}
    return products, availability_for(buyer, products.values())


def _routed_through(email: str) -> dict[str, set[str]]:
    products, answers = _availability(email)
    routed: dict[str, set[str]] = {}
    for pid, answer in answers.items():
        if answer.status == "via_distributor":
            routed.setdefault(answer.distributor_name, set()).add(products[pid].category.slug)
    return routed


def _counts():
    return (TerritoryRight.objects.count(), TerritoryRestriction.objects.count(),
            DistributorProfile.objects.count())


def test_each_persona_meets_its_protected_or_restricted_line():
    load_demo_world()
    loaded = _counts()
    load_territories()

    assert loaded == _counts() == (len(RIGHTS), 1, 3)
    assert right_conflicts() == []

    # nhs.buyer@ (London): splints and collars through Solent
    assert _routed_through("nhs.buyer@demo.test") == {
        "Solent Healthcare Distribution": {"splints-and-casting", "cervical-collars"}}

    # trust2.buyer@ (Leeds): continence through Pennine
    trust2 = _routed_through("trust2.buyer@demo.test")
    assert set(trust2) == {"Pennine Medical Supplies"}
    assert "intermittent-catheters" in trust2["Pennine Medical Supplies"]

    # clinic.buyer@ (Plymouth): wheelchairs through Mercia, with its contact
    products, answers = _availability("clinic.buyer@demo.test")
    wheelchairs = [pid for pid, p in products.items() if p.category.slug == "wheelchairs"]
    assert wheelchairs
    assert {answers[pid].distributor_name for pid in wheelchairs} == {
        "Mercia Medical Distribution"}
    assert answers[wheelchairs[0]].distributor_contact.phone == "0121 706 3380"

    # distributor.north@ (Preston): only its continence, foam dressing and glove lines, all direct
    products, answers = _availability("distributor.north@demo.test")
    continence = Category.objects.get(slug="continence")
    held = Category.objects.filter(
        Q(path__startswith=continence.path) | Q(slug__in=["foam-dressings", "examination-gloves"])
    )
    assert products
    assert {p.category_id for p in products.values()} <= set(held.values_list("pk", flat=True))
    assert {a.status for a in answers.values()} == {"direct"}

    # kelvin.buyer@ (Glasgow): no rapid tests in Scotland
    products, _answers = _availability("kelvin.buyer@demo.test")
    assert products
    assert not [p for p in products.values() if p.category.slug == "rapid-tests"]
