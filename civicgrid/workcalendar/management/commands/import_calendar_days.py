from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from civicgrid.workcalendar.services import CalendarDaysParseError, calendar_days_import


class Command(BaseCommand):
    help = "录入节假日与调休安排（每行：日期或“开始 至 结束”，放假/上班，名称），全部无误才写入。"

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="UTF-8 文本文件，格式见 docs/calendar.md")

    def handle(self, *args, file: Path, **options):
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"无法读取 {file}：{exc}") from exc
        try:
            count = calendar_days_import(text)
        except CalendarDaysParseError as exc:
            raise CommandError("未录入任何日期：\n" + "\n".join(exc.problems)) from exc
        self.stdout.write(self.style.SUCCESS(f"已录入 {count} 天。"))
