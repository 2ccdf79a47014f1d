import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from civicgrid.cases.history import DEFAULT_CASES
from civicgrid.core.demo import (
    COUNTY_CODE,
    COUNTY_NAME,
    DEFAULT_SEED,
    DEMO_USERS,
    database_has_data,
    demo_build,
    demo_password,
)
from civicgrid.core.models import Role
from civicgrid.geo.services import GridImportError


class Command(BaseCommand):
    help = "生成演示县（崇义县县城）：行政区域、300 个单元网格、30 个责任网格、单位、演示账号和部件事件分类。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help=f"随机种子：相同种子生成相同数据（默认 {DEFAULT_SEED}）"
        )
        parser.add_argument(
            "--cases",
            type=int,
            default=DEFAULT_CASES,
            help=f"模拟历史案件数（默认 {DEFAULT_CASES}，含照片；0 为不生成；数据库已有案件时不生成）",
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--if-empty", action="store_true", help="数据库已有区域或用户时什么也不做（make run 用）")
        mode.add_argument("--force", action="store_true", help="数据库已有数据时仍重建演示对象（按编码和用户名覆盖）")

    def handle(self, *args, seed: int, cases: int, if_empty: bool, force: bool, **options):
        if database_has_data():
            if if_empty:
                self.stdout.write("数据库中已有数据，未生成演示数据。")
                return
            if not force:
                raise CommandError(
                    "数据库中已有数据，未生成演示数据。重建演示对象请加 --force；保留现有数据请用 --if-empty。"
                )
        started = time.monotonic()
        try:
            summary = demo_build(seed=seed)
        except GridImportError as exc:  # e.g. --force next to real grids that the demo would overlap
            raise CommandError("演示网格未能写入，未作任何修改：\n" + "\n".join(map(str, exc.problems[:20]))) from exc
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(f"已生成演示县：{COUNTY_NAME}（{COUNTY_CODE}），种子 {seed}，用时 {elapsed:.1f} 秒。")
        )
        self.stdout.write(
            f"街道/乡镇 {summary.streets} 个，社区 {summary.communities} 个，单元网格 {summary.grids} 个，"
            f"责任网格 {summary.responsibility_grids} 个，单位 {summary.org_units} 个，用户 {summary.users} 个。"
        )
        self.stdout.write(f"部件事件分类：{summary.categories}新分配默认处置单位 {summary.default_units_assigned} 个。")
        self.stdout.write("演示账号（仅供演示，切勿用于正式环境）：")
        for username, display_name, role, *_rest in DEMO_USERS:
            label = f"{Role(role).label}（{display_name}）"
            self.stdout.write(f"  {label:<12} 用户名 {username:<11} 密码 {demo_password(username)}")
        self.stdout.write("  责任网格监督员 inspector02 … inspector30，密码 demo-inspector02 … demo-inspector30")
        if cases > 0:
            self._history(cases, seed)
        if not settings.DEMO_MODE:
            self.stdout.write(self.style.WARNING("注意：未开启 CIVICGRID_DEMO，登录页不显示演示账号。"))

    def _history(self, cases: int, seed: int) -> None:
        from civicgrid.cases.demo_photos import POOL_DIR
        from civicgrid.cases.history import history_build, history_shares
        from civicgrid.cases.models import Case

        existing = Case.objects.count()
        if existing:
            self.stdout.write(f"数据库中已有 {existing} 件案件，未生成模拟历史（--cases 只用于没有案件的数据库）。")
            return
        self.stdout.write(f"正在生成模拟历史案件 {cases} 件……")
        summary = history_build(cases=cases, seed=seed)
        shares = history_shares()
        self.stdout.write(
            self.style.SUCCESS(
                f"已生成模拟历史：案件 {summary.cases} 件（办理中 {shares['open']} 件），环节计时 {summary.stages} 条，"
                f"操作记录 {summary.events} 条，照片 {summary.attachments} 张，用时 {summary.seconds:.1f} 秒。"
            )
        )
        self.stdout.write(
            f"超期 {shares['overdue']:.1%}，返工 {shares['rework']:.1%}（占已处置），"
            f"不予立案/作废 {shares['rejected_or_voided']:.1%}，合并 {shares['merged']:.1%}。"
        )
        if summary.attachments:
            self.stdout.write(
                f"照片共用 {Path(settings.MEDIA_ROOT) / POOL_DIR} 下的演示图片（删除案件不会删除这些文件）。"
            )
        if summary.handlers_created:
            self.stdout.write(f"新建处置单位账号（密码 demo-<用户名>）：{', '.join(summary.handlers_created)}")
