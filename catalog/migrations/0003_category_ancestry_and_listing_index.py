"""`CategoryAncestry`, a view over the materialised paths: one row per category and each category at
or above it, so rules can ask "is this category at or below that one?" as an equality. Plain SQL
that SQLite and PostgreSQL both run; `substr(path, 1, length(ancestor path)) = ancestor path` is an
exact prefix test, like the StartsWith comparisons it replaces.

And the index listings page through (name, SKU)."""

from django.db import migrations, models

PREFIX_TEST = "substr(category.path, 1, length(ancestor.path)) = ancestor.path"
# On PostgreSQL the same test also as a range on the path's pattern index, so the descendants of a
# few categories are read from the index instead of comparing every pair (paths hold digits and
# dots only, all below "~"; the exact prefix test stays).
PATTERN_RANGE = (
    "category.path ~>=~ ancestor.path AND category.path ~<~ (ancestor.path || '~') AND "
)


def create_view(apps, schema_editor):
    condition = PREFIX_TEST
    if schema_editor.connection.vendor == "postgresql":
        condition = PATTERN_RANGE + PREFIX_TEST
    schema_editor.execute(
        "CREATE VIEW catalog_categoryancestry AS "
        "SELECT ancestor.id AS ancestor_id, category.id AS category_id "
        "FROM catalog_category AS ancestor "
        f"JOIN catalog_category AS category ON {condition}"
    )


def drop_view(apps, schema_editor):
    schema_editor.execute("DROP VIEW catalog_categoryancestry")


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0002_alter_category_path'),
    ]

    operations = [
        migrations.CreateModel(
            name='CategoryAncestry',
            fields=[
                ('pk', models.CompositePrimaryKey('ancestor', 'category', blank=True, editable=False, primary_key=True, serialize=False)),
            ],
            options={
                'db_table': 'catalog_categoryancestry',
                'managed': False,
            },
        ),
        migrations.RunPython(create_view, drop_view),
        migrations.AddIndex(
            model_name='product',
            index=models.Index(fields=['name', 'sku'], name='catalog_product_listing'),
        ),
    ]
