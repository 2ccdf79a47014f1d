import time

from django.core.management.base import BaseCommand

from civicgrid.evaluation import facts


class Command(BaseCommand):
    help = (
        "从案件历史重建综合评价的预汇总表（EvaluationFact）。评价时会自动补上新操作涉及的案件；"
        "批量导入（load_cases）之后运行一次，第一次评价就不必等待重建。"
    )

    def handle(self, *args, **options):
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            self.stdout.write(f"  案件编号 {done:>9,} / {total:,}，{time.monotonic() - started:6.0f} 秒")
            self.stdout.flush()

        rows = facts.rebuild(progress)
        self.stdout.write(self.style.SUCCESS(f"评价预汇总：{rows:,} 行，用时 {time.monotonic() - started:.0f} 秒。"))
