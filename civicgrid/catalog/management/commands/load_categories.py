from django.core.management.base import BaseCommand

from civicgrid.catalog.services import catalog_assign_default_units, catalog_load_reference


class Command(BaseCommand):
    help = "载入内置的部件事件分类参考目录（可重复运行，不覆盖本地修改）。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--assign-units", action="store_true", help="同时按单位职责范围为没有默认处置单位的分类分配单位。"
        )

    def handle(self, *args, **options):
        summary = catalog_load_reference()
        self.stdout.write(str(summary))
        if options["assign_units"]:
            self.stdout.write(f"分配默认处置单位 {catalog_assign_default_units()} 个分类。")
