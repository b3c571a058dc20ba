"""Territory rights keep exclusivity: an overlapping exclusive right is refused with a clear
message, whether it overlaps by product, by category, by territory or through a shared area."""

import pytest
from django.core.exceptions import ValidationError

from territories import services
from territories.models import DistributorProfile, Territory, TerritoryRight
from tests.catalog.factories import CategoryFactory, ProductFactory
from tests.factories import OrganisationFactory

from .conftest import days, distributor, grant, region

pytestmark = pytest.mark.django_db


@pytest.fixture
def lines():
    continence = CategoryFactory(name="Continence", slug="continence")
    catheters = CategoryFactory(name="Catheters", slug="catheters", parent=continence)
    pads = CategoryFactory(name="Pads", slug="pads", parent=continence)
    return {
        "continence": continence,
        "catheters": catheters,
        "pads": pads,
        "catheter": ProductFactory(category=catheters),
        "pad": ProductFactory(category=pads),
    }


def test_second_exclusive_right_on_the_same_product_and_territory_is_refused(lines):
    pennine, solent = distributor("Pennine Medical Supplies"), distributor("Solent Healthcare")
    grant(pennine, region("north-west"), product=lines["catheter"])

    with pytest.raises(ValidationError) as refusal:
        grant(solent, region("north-west"), product=lines["catheter"])

    message = " ".join(refusal.value.messages)
    assert "Pennine Medical Supplies" in message and "North West" in message
    assert "cannot cover the same product" in message
    assert TerritoryRight.objects.count() == 1


def test_a_category_right_overlaps_a_right_on_a_product_below_it(lines):
    pennine, solent = distributor("Pennine"), distributor("Solent")
    grant(pennine, region("north-west"), category=lines["continence"])

    with pytest.raises(ValidationError):
        grant(solent, region("north-west"), product=lines["pad"])
    with pytest.raises(ValidationError):
        grant(solent, region("north-west"), category=lines["catheters"])


def test_a_narrower_category_right_overlaps_a_later_broader_one(lines):
    pennine, solent = distributor("Pennine"), distributor("Solent")
    grant(pennine, region("north-west"), product=lines["catheter"])

    with pytest.raises(ValidationError):
        grant(solent, region("north-west"), category=lines["continence"])


def test_territories_sharing_a_postcode_area_overlap():
    pennine, solent = distributor("Pennine"), distributor("Solent")
    product = ProductFactory()
    manchester = Territory.objects.create(code="greater-manchester", name="Greater Manchester")
    manchester.areas.add("M", "BL", "OL")
    grant(pennine, region("north-west"), product=product)

    with pytest.raises(ValidationError):
        grant(solent, manchester, product=product)


def test_rights_in_separate_areas_categories_or_periods_do_not_overlap(lines):
    pennine, solent = distributor("Pennine"), distributor("Solent")
    grant(pennine, region("north-west"), category=lines["catheters"], valid_to=days(10))

    grant(solent, region("london"), category=lines["catheters"])
    grant(solent, region("north-west"), category=lines["pads"])
    grant(solent, region("north-west"), category=lines["catheters"], valid_from=days(11))

    assert TerritoryRight.objects.count() == 4


def test_another_distributors_non_exclusive_right_inside_an_exclusive_one_is_refused(lines):
    pennine, solent = distributor("Pennine"), distributor("Solent")
    grant(pennine, region("north-west"), category=lines["continence"])

    with pytest.raises(ValidationError):
        grant(solent, region("north-west"), product=lines["pad"], exclusive=False)


def test_non_exclusive_rights_may_overlap_and_a_holder_may_add_its_own(lines):
    pennine, solent = distributor("Pennine"), distributor("Solent")
    grant(pennine, region("north-west"), category=lines["continence"], exclusive=False)
    grant(solent, region("north-west"), category=lines["continence"], exclusive=False)
    grant(pennine, region("london"), category=lines["continence"])

    grant(pennine, region("london"), product=lines["pad"], exclusive=False)

    assert TerritoryRight.objects.count() == 4


def test_editing_a_right_does_not_conflict_with_itself(lines):
    right = grant(distributor("Pennine"), region("north-west"), category=lines["continence"])

    right.valid_to = days(100)
    services.territory_right_save(right=right)

    right.refresh_from_db()
    assert right.valid_to == days(100)


@pytest.mark.parametrize("kind", ["nhs_trust", "private_clinic"])
def test_only_a_distributor_holds_rights_or_a_distributor_profile(lines, kind):
    trust = OrganisationFactory(kind=kind)

    with pytest.raises(ValidationError) as refusal:
        grant(trust, region("london"), product=lines["pad"])
    assert "Only a distributor" in " ".join(refusal.value.messages)
    with pytest.raises(ValidationError):
        services.distributor_profile_save(profile=DistributorProfile(organisation=trust))


def test_a_right_names_exactly_one_product_or_one_category(lines):
    pennine = distributor("Pennine")

    with pytest.raises(ValidationError):
        grant(pennine, region("london"), product=lines["pad"], category=lines["pads"])
    with pytest.raises(ValidationError):
        grant(pennine, region("london"))


def test_a_right_cannot_end_before_it_starts(lines):
    with pytest.raises(ValidationError):
        grant(distributor("Pennine"), region("london"), product=lines["pad"],
              valid_from=days(5), valid_to=days(4))
