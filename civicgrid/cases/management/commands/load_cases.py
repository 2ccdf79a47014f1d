import time

from django.core.management.base import BaseCommand, CommandError

from civicgrid.cases.history import history_build
from civicgrid.cases.models import Case
from civicgrid.geo.models import Grid


class Command(BaseCommand):
    help = (
        "批量生成模拟案件（基准测试用）：与演示历史同一个生成器，追加到现有案件之后，每 5000 件提交一次。"
        "数据库中没有演示县时先生成演示县。"
    )

    def add_arguments(self, parser):
        parser.add_argument("count", type=int, help="案件数，例如 1000000")
        parser.add_argument(
            "--seed", type=int, default=None, help="随机种子（默认由现有案件数推出：再次加载不会重复上一批）"
        )
        parser.add_argument(
            "--no-photos",
            action="store_true",
            help="不生成照片记录（默认与演示历史一样，照片共用 MEDIA_ROOT 下的 24 张演示图片）",
        )

    def handle(self, *args, count: int, seed: int | None, no_photos: bool, **options):
        if count <= 0:
            raise CommandError("案件数应大于 0")
        if not Grid.objects.exists():
            from civicgrid.core.demo import demo_build

            self.stdout.write("数据库中没有网格，先生成演示县……")
            demo_build()
        existing = Case.objects.count()
        seed = 100_000 + existing if seed is None else seed
        self.stdout.write(f"已有案件 {existing} 件；生成 {count} 件，种子 {seed}。")
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            elapsed = time.monotonic() - started
            self.stdout.write(f"  {done:>9,} / {total:,} 件，{elapsed:6.0f} 秒，{done / max(elapsed, 1e-9):,.0f} 件/秒")
            self.stdout.flush()

        summary = history_build(cases=count, seed=seed, progress=progress, one_transaction=False, photos=not no_photos)
        # Two counts only: the history's shares (history_shares) take minutes over a million cases.
        total, still_open = Case.objects.count(), Case.objects.open().count()
        self.stdout.write(
            self.style.SUCCESS(
                f"已写入案件 {summary.cases:,} 件，环节计时 {summary.stages:,} 条，操作记录 {summary.events:,} 条，"
                f"照片 {summary.attachments:,} 张，"
                f"用时 {summary.seconds:.0f} 秒。数据库现有案件 {total:,} 件，办理中 {still_open:,} 件。"
            )
        )
