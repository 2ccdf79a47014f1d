import time

from django.core.management.base import BaseCommand

from civicgrid.cases.bulk import ProgressBar
from civicgrid.evaluation import facts


class Command(BaseCommand):
    help = (
        "从案件历史重建综合评价的预汇总表（EvaluationFact）。评价时会自动补上新操作涉及的案件；"
        "批量导入（load_cases）之后运行一次，第一次评价就不必等待重建。"
    )

    def handle(self, *args, **options):
        started = time.monotonic()
        bar = ProgressBar(lambda text: (self.stdout.write(text, ending=""), self.stdout.flush()), label="件")
        rows = facts.rebuild(bar)
        self.stdout.write(self.style.SUCCESS(f"评价预汇总：{rows:,} 行，用时 {time.monotonic() - started:.0f} 秒。"))
