"""manage.py import_grids FILE.geojson [--county 360725]: import unit grids (all or nothing)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from civicgrid.geo.models import Region
from civicgrid.geo.services import GridImportError, grids_import


def county_from_option(code: str | None) -> Region:
    """The county named by --county, or the only county in the database."""
    counties = Region.objects.filter(level=Region.Level.COUNTY)
    if code:
        county = counties.filter(code=code).first()
        if county is None:
            raise CommandError(f"区县 {code} 不存在")
        return county
    found = list(counties[:2])
    if len(found) != 1:
        raise CommandError("数据库中有多个区县或没有区县：请用 --county 指定区县代码")
    return found[0]


class Command(BaseCommand):
    help = "从 GeoJSON（WGS84）导入单元网格：任一要素有误则全部不导入；编码已存在的网格被更新。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="GeoJSON FeatureCollection 文件")
        parser.add_argument("--county", help="区县代码（6 位）；数据库只有一个区县时可省略")

    def handle(self, *args, file, county, **options):
        county_region = county_from_option(county)
        try:
            data = json.loads(Path(file).read_text(encoding="utf-8-sig"))
        except FileNotFoundError as exc:
            raise CommandError(f"文件不存在：{file}") from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"文件不是有效的 JSON（UTF-8）：{exc}") from exc
        try:
            result = grids_import(data, county=county_region)
        except GridImportError as exc:
            for problem in exc.problems:
                self.stderr.write(f"  {problem}")
            raise CommandError(f"导入失败：{len(exc.problems)} 个问题，未写入任何网格。") from exc
        self.stdout.write(
            f"导入完成（{county_region.name}）：新增 {len(result.created)} 个网格，更新 {len(result.updated)} 个网格。"
        )
