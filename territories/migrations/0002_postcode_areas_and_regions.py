"""Load the UK postcode areas and the ten default regions that together cover each area once."""
from django.db import migrations

from territories.data.regions import POSTCODE_AREAS, REGIONS


def load_areas_and_regions(apps, schema_editor):
    PostcodeArea = apps.get_model("territories", "PostcodeArea")
    Territory = apps.get_model("territories", "Territory")
    for code, (name, _region) in POSTCODE_AREAS.items():
        PostcodeArea.objects.update_or_create(code=code, defaults={"name": name})
    for region_code, region_name in REGIONS.items():
        territory, _ = Territory.objects.update_or_create(
            code=region_code, defaults={"name": region_name, "is_region": True}
        )
        territory.areas.set(
            [code for code, (_name, region) in POSTCODE_AREAS.items() if region == region_code]
        )


def remove_areas_and_regions(apps, schema_editor):
    PostcodeArea = apps.get_model("territories", "PostcodeArea")
    Territory = apps.get_model("territories", "Territory")
    Territory.objects.filter(code__in=REGIONS, is_region=True).delete()
    PostcodeArea.objects.filter(code__in=POSTCODE_AREAS).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("territories", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(load_areas_and_regions, remove_areas_and_regions),
    ]
