from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.test import TestCase

from civicgrid.cases.models import Case
from civicgrid.cases.selectors import FilterError, case_filter, duplicate_candidates, queue_cases, queue_counts
from civicgrid.cases.services import ActInput, case_act
from civicgrid.cases.tests.fixtures import EAST_POINT, WEST_POINT, build_people, report
from civicgrid.geo.tests.fixtures import xy

TZ = ZoneInfo("Asia/Shanghai")
MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)


class QueueTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = m = build_people()
        with time_machine.travel(MONDAY_9, tick=False):
            cls.filed = report(m)
            case_act(case_id=cls.filed.pk, data=ActInput(action="file", version=1), actor=m["otto"])
            cls.pending = report(m)
            cls.public = report(m, channel="public", actor_key=None)
            cls.west = report(m, channel="hotline", actor_key=None, point=WEST_POINT)

    def test_it_counts_each_roles_queues(self):
        with time_machine.travel(MONDAY_9, tick=False):
            self.assertEqual(queue_counts(self.made["dora"])["dispatch"], 1)
            operator = queue_counts(self.made["otto"])
            self.assertEqual((operator["file"], operator["verify"]), (1, 2))
            # The inspector's verify queue holds only the reports assigned to her (the east one).
            self.assertEqual(list(queue_cases(self.made["ivy"], "verify")), [self.public])

    def test_it_keeps_a_street_office_to_its_street(self):
        self.assertEqual(list(queue_cases(self.made["wes"], "verify")), [self.west])

    def test_it_lists_overdue_cases_by_deadline(self):
        later = datetime(2026, 3, 2, 11, 0, tzinfo=TZ)  # every 1-working-hour stage has run out
        overdue = list(queue_cases(self.made["otto"], "overdue", now=later))
        self.assertEqual(len(overdue), 4)
        self.assertEqual(overdue, sorted(overdue, key=lambda c: (c.stage_deadline, c.created_at, c.id)))

    def test_it_filters_by_channel_status_and_street(self):
        qs = Case.objects.all()
        self.assertEqual(set(case_filter(qs, {"channel": "hotline"})), {self.west})
        self.assertEqual(set(case_filter(qs, {"status": "filed"})), {self.filed})
        self.assertEqual(set(case_filter(qs, {"street": "360725101"})), {self.west})
        self.assertEqual(case_filter(qs, {"date_from": "2026-03-03"}).count(), 0)
        self.assertEqual(case_filter(qs, {"date_to": "2026-03-02"}).count(), 4)

    def test_it_names_a_bad_filter(self):
        with self.assertRaises(FilterError) as error:
            case_filter(Case.objects.all(), {"date_from": "yesterday"})
        self.assertEqual(error.exception.field, "date_from")


class DuplicateTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = m = build_people()
        with time_machine.travel(MONDAY_9, tick=False):
            cls.first = report(m)
            # About 30 m east of the first report: a likely duplicate.
            cls.near = report(m, channel="public", actor_key=None, point=(EAST_POINT[0] + 0.0003, EAST_POINT[1]))
            # About 100 m away: not a duplicate.
            cls.far = report(m, channel="public", actor_key=None, point=xy(0.5, 0.5 + 0.9))

    def test_it_suggests_same_category_reports_within_50_m(self):
        self.assertEqual(duplicate_candidates(self.near, self.made["otto"]), [self.first])

    def test_it_ignores_reports_after_72_hours(self):
        Case.objects.filter(pk=self.first.pk).update(created_at=datetime(2026, 2, 20, 9, 0, tzinfo=TZ))
        self.assertEqual(duplicate_candidates(self.near, self.made["otto"]), [])
