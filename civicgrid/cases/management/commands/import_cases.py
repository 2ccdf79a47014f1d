from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from civicgrid.cases.importer import SHOWN_ERRORS, CaseImportError, cases_import


class Command(BaseCommand):
    help = (
        "导入历史案件（已结案、已作废）：CSV 文件，UTF-8 或 GBK 编码，列见 docs/import.md。"
        "先检查全部行，有错误时一行也不写入；已导入过的行（原案件编号和来源相同）跳过。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV 文件路径")
        parser.add_argument("--dry-run", action="store_true", help="只检查和统计，不写入")

    def handle(self, *args, file: str, dry_run: bool, **options):
        if not Path(file).is_file():
            raise CommandError(_("文件不存在：%(path)s") % {"path": file})
        try:
            result = cases_import(path=file, dry_run=dry_run)
        except CaseImportError as error:
            for row_error in error.errors[:SHOWN_ERRORS]:
                self.stderr.write(str(row_error))
            more = len(error.errors) - SHOWN_ERRORS
            if more > 0:
                self.stderr.write(_("……另有 %(n)d 处错误未列出") % {"n": more})
            raise CommandError(_("发现 %(n)d 处错误，未导入任何案件。") % {"n": len(error.errors)}) from None
        values = {"rows": result.rows, "imported": result.imported, "skipped": result.skipped}
        if dry_run:
            message = _("检查通过（未写入）：共 %(rows)d 行，可导入 %(imported)d 件，已导入过跳过 %(skipped)d 行。")
        else:
            message = _(
                "已导入 %(imported)d 件，已导入过跳过 %(skipped)d 行（共 %(rows)d 行），用时 %(seconds).1f 秒。"
            )
            values["seconds"] = result.seconds
        self.stdout.write(self.style.SUCCESS(message % values))
