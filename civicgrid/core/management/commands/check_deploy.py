from django.core.management.base import BaseCommand, CommandError

from civicgrid.core.deploycheck import FAIL, run_checks


class Command(BaseCommand):
    help = "检查部署环境：数据库、只读副本、文件存储、消息队列、静态文件和安全设置（见 docs/deploy.md）。"

    def handle(self, *args, **options):
        checks = run_checks()
        for check in checks:
            self.stdout.write(f"{check.status:<4}  {check.name:<8}  {check.detail}")
        failed = [check.name for check in checks if check.status == FAIL]
        if failed:
            raise CommandError(f"failed: {', '.join(failed)}")
