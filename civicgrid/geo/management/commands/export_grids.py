"""manage.py export_grids FILE.geojson [--county 360725]: export unit grids; import_grids reads it back."""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from civicgrid.geo.models import Grid
from civicgrid.geo.services import grids_export


class Command(BaseCommand):
    help = "把单元网格导出为 GeoJSON（WGS84），可用 import_grids 再导入。FILE 为 - 时写到标准输出。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="输出文件，- 表示标准输出")
        parser.add_argument("--county", help="只导出该区县（6 位代码）的网格")

    def handle(self, *args, file, county, **options):
        grids = Grid.objects.all()
        if county:
            grids = grids.filter(region_code__startswith=county)
        collection = grids_export(grids)
        text = json.dumps(collection, ensure_ascii=False, indent=1)
        if file == "-":
            sys.stdout.write(text + "\n")
            return
        Path(file).write_text(text + "\n", encoding="utf-8")
        self.stdout.write(f"已导出 {len(collection['features'])} 个网格到 {file}")
