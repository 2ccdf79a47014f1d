"""Seed the report page's category tiles from civicgrid.portal.defaults.

Only into an empty table, and only for catalogue keys that exist (active and public): on a new
database the catalogue is loaded later (the demo, or catalog_load_reference), and
civicgrid.portal.services.tiles_seed() fills the tiles then.
"""

from django.db import migrations


def seed(apps, schema_editor):
    from civicgrid.portal.defaults import DEFAULT_TILES

    CategoryTile = apps.get_model("portal", "CategoryTile")
    Category = apps.get_model("catalog", "Category")
    if CategoryTile.objects.exists():
        return
    by_key = {
        c.key: c
        for c in Category.objects.filter(key__in=[key for _l, _h, key in DEFAULT_TILES], is_active=True, is_public=True)
    }
    for order, (label, hint, key) in enumerate(DEFAULT_TILES, start=1):
        if key in by_key:
            CategoryTile.objects.create(label=label, hint=hint, category=by_key[key], order=order * 10)


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0002_gazetteer_tiles_phone_codes"),
        ("catalog", "0002_category_publicly_listed"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
