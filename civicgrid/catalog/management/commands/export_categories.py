from django.core.management.base import BaseCommand, CommandError

from civicgrid.catalog.transfer import catalog_export_file


class Command(BaseCommand):
    help = "导出部件事件分类目录到 YAML 或 Excel（.xlsx）文件。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="目标文件，扩展名 .yaml/.yml 或 .xlsx")

    def handle(self, *args, **options):
        try:
            catalog_export_file(options["file"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"已导出到 {options['file']}。")
