import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

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
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--if-empty", action="store_true", help="数据库已有区域或用户时什么也不做（make run 用）")
        mode.add_argument("--force", action="store_true", help="数据库已有数据时仍重建演示对象（按编码和用户名覆盖）")

    def handle(self, *args, seed: int, if_empty: bool, force: bool, **options):
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
        if not settings.DEMO_MODE:
            self.stdout.write(self.style.WARNING("注意：未开启 CIVICGRID_DEMO，登录页不显示演示账号。"))
