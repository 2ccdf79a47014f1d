"""Celery tasks of cases: long imports, routed to the `bulk` queue (civicgrid/celery.py, docs/deploy.md)."""

from celery import shared_task


@shared_task(name="civicgrid.import_cases")
def import_cases_task(path: str, dry_run: bool = False) -> dict:
    """Import the case history CSV stored at `path` (see civicgrid.cases.importer).

    Returns the counts, or {"errors": [...]} with the first 50 problems as 第 N 行 字段 原因 when
    the file has bad rows (then nothing was written). Not retried: a bad file stays bad.
    """
    from civicgrid.cases.importer import SHOWN_ERRORS, CaseImportError, cases_import

    try:
        result = cases_import(path=path, dry_run=dry_run)
    except CaseImportError as error:
        return {"errors": [str(e) for e in error.errors[:SHOWN_ERRORS]], "error_count": len(error.errors)}
    return {
        "rows": result.rows,
        "imported": result.imported,
        "skipped": result.skipped,
        "dry_run": result.dry_run,
        "seconds": round(result.seconds, 3),
    }
