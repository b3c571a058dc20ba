import importlib

import pytest
from django.apps import apps
from django.db.models import Count, Q

from territories.lookup import region_for_area
from territories.models import PostcodeArea, Territory
from territories.postcodes import postcode_area

pytestmark = pytest.mark.django_db

REGION_CODES = {
    "london", "south-east", "south-west", "east-of-england", "midlands",
    "north-east-and-yorkshire", "north-west", "wales", "scotland", "northern-ireland",
}

EXPECTED_REGIONS = {
    "london": ["SE", "N", "E", "W", "NW", "SW", "EC", "WC"],
    "north-east-and-yorkshire": ["LS", "YO", "NE"],
    "north-west": ["M", "L", "BL"],
    "wales": ["CF", "SA", "LL"],
    "scotland": ["EH", "G", "AB"],
    "northern-ireland": ["BT"],
    "south-east": ["PO", "SO", "BN"],
    "south-west": ["BS", "EX", "PL", "TR"],
    "midlands": ["B", "NG", "LE"],
    "east-of-england": ["CB", "NR", "IP"],
}


def _migration():
    return importlib.import_module("territories.migrations.0002_postcode_areas_and_regions")


def test_there_are_exactly_124_postcode_areas():
    assert PostcodeArea.objects.count() == 124
    assert {"GY", "JE", "IM", "ZE", "HS", "BT"} <= set(
        PostcodeArea.objects.values_list("code", flat=True)
    )


def test_areas_carry_their_names():
    assert PostcodeArea.objects.get(code="SE").name == "London SE"
    assert PostcodeArea.objects.get(code="LS").name == "Leeds"
    assert PostcodeArea.objects.get(code="IM").name == "Isle of Man"


def test_the_ten_default_regions_exist():
    regions = set(Territory.objects.filter(is_region=True).values_list("code", flat=True))

    assert regions == REGION_CODES


def test_every_area_is_in_exactly_one_region():
    region_counts = PostcodeArea.objects.annotate(
        regions=Count("territories", filter=Q(territories__is_region=True))
    ).values_list("code", "regions")

    assert {code: n for code, n in region_counts if n != 1} == {}


@pytest.mark.parametrize(
    ("area", "region"),
    [(area, region) for region, areas in EXPECTED_REGIONS.items() for area in areas],
)
def test_spot_checked_areas_lie_in_their_region(area, region):
    assert region_for_area(area).code == region


def test_crown_dependencies_are_assigned_to_the_nearest_english_regions():
    assert region_for_area("GY").code == "south-west"
    assert region_for_area("JE").code == "south-west"
    assert region_for_area("IM").code == "north-west"


def test_region_lookup_from_a_full_postcode():
    assert region_for_area(postcode_area("SE5 9RS")).name == "London"
    assert region_for_area(postcode_area("cf10 1ep")).code == "wales"


def test_an_unknown_or_missing_area_has_no_region():
    assert region_for_area("") is None
    assert region_for_area(None) is None
    assert region_for_area("QQ") is None


def test_the_migration_reverses_and_reapplies_cleanly():
    migration = _migration()

    migration.remove_areas_and_regions(apps, None)
    assert not PostcodeArea.objects.exists()
    assert not Territory.objects.filter(is_region=True).exists()

    migration.load_areas_and_regions(apps, None)
    migration.load_areas_and_regions(apps, None)
    assert PostcodeArea.objects.count() == 124
    assert Territory.objects.filter(is_region=True).count() == 10
    assert region_for_area("LS").code == "north-east-and-yorkshire"


def test_reversing_leaves_territories_that_are_not_regions():
    free = Territory.objects.create(code="solent-exclusive", name="Solent exclusive")

    _migration().remove_areas_and_regions(apps, None)

    assert Territory.objects.filter(pk=free.pk).exists()
