"""One-off: rebuild this folder's data files from the shared reference catalogues.

Run from the repository root when the reference files change::

    .venv/bin/python civicgrid/catalog/data/build_from_reference.py ../shared/reference

The project never reads the reference folder at run time (a user's clone has none); it reads
the files this script writes. What the script changes, and nothing else:

* every code becomes a zero-padded string (the reference has unquoted ``0108`` and ``08``,
  which some YAML parsers read as numbers, and ``0107`` would be octal 71);
* YAML anchors/aliases are expanded, so each item is readable on its own;
* a header says where the data came from.

Sources, ``*_source`` fields and the ``PH`` (placeholder) markers are kept as they are.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from civicgrid.catalog.yamlio import dump_yaml, load_yaml  # noqa: E402

LEGACY_HEADER = """\
# Component/event categories in the GB/T 30428.2 (CJ/T 214) style: 105 items, 50 components, 55 events.
# Built by build_from_reference.py from the CivicGrid reference file categories-legacy.yaml
# (see meta.sources for the handbooks and lists each value came from). Do not edit by hand:
# a county changes its catalogue in the admin or with `manage.py import_categories`.
# *_source == PH means a placeholder, not a rule: it is shown as 待本地确认 until confirmed.
"""

GBT_HEADER = """\
# GB/T 47678.5-2026 directory (城市运行管理服务平台 管理部件和事项): 153 管理部件 (components) and
# 250 管理事项 (matters), codes and names only. Built by build_from_reference.py from the CivicGrid
# reference file gbt47678-5-directory.yaml, itself transcribed from a public SQL import
# (github.com/Jackyhellolove/city-inspection-ai, supabase-gb47678.5-directory.sql, commit 088839d9).
# Not checked against the official text. Codes absent from the transcription:
#   components: 01016, 05001, 05004, 05005, 05006, 05007, 05008
#   matters:    01016, 05001, 05004, 05005, 05006, 05007, 05008, 06031, 07005, 09007
"""


def pad(value: object, width: int) -> str | None:
    """A code as a zero-padded string; None stays None."""
    if value is None:
        return None
    text = str(value).strip()
    if not text.isdigit():
        raise ValueError(f"not a code: {value!r}")
    return text.zfill(width)


def build_legacy(source: dict) -> dict:
    for group in source["majors"].values():
        for major in group:
            major["code"] = pad(major["code"], 2)
    for item in source["items"]:
        item["major_code"] = pad(item["major_code"], 2)
        item["minor_code"] = pad(item["minor_code"], 4)
        item["gbt47678_5_code"] = pad(item["gbt47678_5_code"], 5)
        item["time_limits"] = [dict(limit) for limit in item["time_limits"]]
    return source


def build_gbt(source: dict) -> dict:
    for key in ("components", "matters"):
        for entry in source[key]:
            entry["code"] = pad(entry["code"], 5)
            entry["class_code"] = pad(entry["class_code"], 2)
    return source


def main(reference_dir: str) -> None:
    ref = Path(reference_dir)
    with open(ref / "categories-legacy.yaml", encoding="utf-8") as fh:
        legacy = build_legacy(load_yaml(fh))
    with open(ref / "gbt47678-5-directory.yaml", encoding="utf-8") as fh:
        gbt = build_gbt(load_yaml(fh))
    (HERE / "categories_legacy.yaml").write_text(LEGACY_HEADER + dump_yaml(legacy), encoding="utf-8")
    (HERE / "gbt47678_5.yaml").write_text(GBT_HEADER + dump_yaml(gbt), encoding="utf-8")
    print(f"{len(legacy['items'])} legacy items, {len(gbt['components'])} components, {len(gbt['matters'])} matters")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/reference")
