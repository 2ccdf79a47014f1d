"""Trigram indexes for the workbench search on PostgreSQL (case number or address "contains").

Django writes icontains as UPPER(col::text) LIKE UPPER('%term%'): the indexes are on that
expression, with pg_trgm's operator class, so that a search reads the index instead of every
case (at 10,000,000 cases a scan takes seconds). pg_trgm is a trusted extension (PostgreSQL 13+):
the database owner may create it. SQLite has no such index: there the search scans (the
embedded default serves a county, where that stays well under a second).
"""

from django.db import migrations

INDEXES = {
    "case_address_trgm": "address",
    "case_number_trgm": "number",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {name} ON cases_case USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("cases", "0007_indexes_for_queues_and_open311")]

    operations = [migrations.RunPython(create, drop)]
