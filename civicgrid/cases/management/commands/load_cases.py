from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from civicgrid.cases import bulk
from civicgrid.cases.models import Case
from civicgrid.geo.models import Grid


class Command(BaseCommand):
    help = (
        "批量生成模拟案件（基准测试用）：演示县的案件模拟器生成案件模板，按县复制（--counties 个县，"
        "演示县之外的县是演示县的平移副本），PostgreSQL 用 COPY 写入，SQLite 分批写入；显示进度条。"
        "追加到现有案件之后。数据库中没有演示县时先生成演示县。"
    )

    def add_arguments(self, parser):
        parser.add_argument("count", type=int, nargs="?", help="案件数，例如 10000000")
        parser.add_argument("--counties", type=int, default=1, help="分布到几个县（默认 1：只有演示县）")
        parser.add_argument(
            "--seed", type=int, default=None, help="随机种子（默认由现有案件数推出：再次加载不会重复上一批）"
        )
        parser.add_argument(
            "--no-photos",
            action="store_true",
            help="不生成照片记录（默认与演示历史一样，照片共用 MEDIA_ROOT 下的 24 张演示图片）",
        )
        parser.add_argument(
            "--restore-indexes", action="store_true", help="只重建中途停止的加载留下未建的索引，然后退出"
        )

    def handle(self, *args, count, counties, seed, no_photos, restore_indexes: bool, **options):
        def rebuilding(sql: str) -> None:
            # An index's CREATE statement, or the closing VACUUM (ANALYZE) of a table.
            what = f"建索引 {sql.split(' ON ')[0].split()[-1]}" if sql.startswith("CREATE") else f"整理 {sql}"
            self.stdout.write(f"  {what}")
            self.stdout.flush()

        if restore_indexes:
            self.stdout.write(f"已重建索引 {bulk.restore_indexes(rebuilding)} 个。")
            return
        if count is None or count <= 0:
            raise CommandError("案件数应大于 0")
        if not 1 <= counties <= 99:
            raise CommandError("县的个数应在 1 到 99 之间")
        if not Grid.objects.exists():
            from civicgrid.core.demo import demo_build

            self.stdout.write("数据库中没有网格，先生成演示县……")
            demo_build()
        existing = Case.objects.count()
        seed = 100_000 + existing if seed is None else seed
        self.stdout.write(
            f"已有案件 {existing:,} 件；生成 {count:,} 件，{counties} 个县，种子 {seed}，"
            f"数据库 {connection.vendor}（{'COPY' if connection.vendor == 'postgresql' else '分批插入'}）。"
        )
        summary = bulk.bulk_load(
            cases=count,
            counties=counties,
            seed=seed,
            photos=not no_photos,
            progress=bulk.ProgressBar(lambda text: (self.stdout.write(text, ending=""), self.stdout.flush())),
            progress_rebuild=rebuilding,
        )
        total = Case.objects.count()
        self.stdout.write(
            self.style.SUCCESS(
                f"已写入案件 {summary.cases:,} 件（{summary.counties} 个县，模板 {summary.templates:,} 件），"
                f"连同环节计时、操作记录、照片和评价共 {summary.rows:,} 行，用时 {summary.seconds:.0f} 秒"
                f"（{summary.cases / max(summary.seconds, 1e-9):,.0f} 件/秒）。数据库现有案件 {total:,} 件。"
                "考核数据请运行 manage.py rebuild_evaluation 重建。"
            )
        )
