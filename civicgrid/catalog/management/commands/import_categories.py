from django.core.management.base import BaseCommand, CommandError

from civicgrid.catalog.transfer import CatalogImportError, catalog_import_file


class Command(BaseCommand):
    help = "从 YAML 或 Excel（.xlsx）文件导入部件事件分类目录；任何一行有错则全部不导入。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="源文件，扩展名 .yaml/.yml 或 .xlsx")

    def handle(self, *args, **options):
        try:
            summary = catalog_import_file(options["file"])
        except CatalogImportError as exc:
            raise CommandError("文件有误，未导入任何数据：\n" + "\n".join(str(i) for i in exc.issues)) from exc
        except OSError as exc:
            raise CommandError(f"无法读取文件：{exc}") from exc
        self.stdout.write(str(summary))
