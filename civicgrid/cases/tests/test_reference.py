"""The reference snapshots a report reads (civicgrid.cases.reference): a change made in this
process counts at once, a change made elsewhere (no signal here) within the TTL."""

from datetime import datetime
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import time_machine
from django.test import TestCase

from civicgrid.cases import reference
from civicgrid.cases.services import InvalidInput
from civicgrid.cases.tests.fixtures import build_people, report
from civicgrid.catalog.models import Category, Stage, StageTimeLimit, TimeUnit
from civicgrid.core.models import Role, User
from civicgrid.geo.models import ResponsibilityGrid

MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


class ReferenceTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_people()

    def setUp(self):
        traveller = time_machine.travel(MONDAY_9, tick=False)
        traveller.start()
        self.addCleanup(traveller.stop)

    def test_a_saved_limit_counts_for_the_next_report(self):
        first = report(self.made, description="井盖缺失")
        limit = StageTimeLimit.objects.get(category=self.made["category"], stage=Stage.FILE)
        limit.amount, limit.unit = Decimal("2"), TimeUnit.WORKING_HOURS
        limit.save()
        second = report(self.made, description="井盖缺失")
        self.assertEqual(first.stage_deadline, datetime(2026, 3, 2, 10, 0, tzinfo=first.stage_deadline.tzinfo))
        self.assertEqual(second.stage_deadline, datetime(2026, 3, 2, 11, 0, tzinfo=first.stage_deadline.tzinfo))

    def test_a_deactivated_category_is_refused_at_once(self):
        report(self.made)
        category = Category.objects.get(pk=self.made["category"].pk)
        category.is_active = False
        category.save()
        with self.assertRaisesMessage(InvalidInput, "分类不存在或已停用"):
            report(self.made)

    def test_a_new_inspector_gets_the_next_verification(self):
        self.assertEqual(report(self.made, channel="hotline", actor_key="otto").assignee, self.made["ivy"])
        newcomer = User.objects.create_user("ian", role=Role.INSPECTOR)
        rgrid = ResponsibilityGrid.objects.get(pk=self.made["rgrid"].pk)
        rgrid.inspector = newcomer
        rgrid.save()
        self.assertEqual(report(self.made, channel="hotline", actor_key="otto").assignee, newcomer)

    def test_a_change_without_a_signal_counts_after_the_ttl(self):
        # Another process's change: this one hears no signal and reads it at the next reload.
        report(self.made)
        Category.objects.filter(pk=self.made["category"].pk).update(is_active=False)
        report(self.made)  # still the snapshot
        later = reference.categories._expires + 0.01
        with mock.patch("civicgrid.cases.reference.time.monotonic", return_value=later):
            with self.assertRaisesMessage(InvalidInput, "分类不存在或已停用"):
                report(self.made)
