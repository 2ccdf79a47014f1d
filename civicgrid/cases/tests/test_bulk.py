"""The bulk loader: several counties stamped from simulated templates, and what it leaves behind."""

from datetime import UTC, datetime
from io import StringIO
from unittest import skipUnless

from django.core.management import call_command
from django.db import connection, transaction
from django.test import TestCase, TransactionTestCase
from django.urls import reverse

from civicgrid.cases import bulk
from civicgrid.cases.history import history_build
from civicgrid.cases.models import Attachment, Case, CaseEvent, CaseNumberSequence, CaseStage, Rating
from civicgrid.cases.selectors import queue_cases
from civicgrid.core.demo import demo_build
from civicgrid.core.models import OrgUnit, User
from civicgrid.geo.models import Grid, Region

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


class _Rollback(Exception):
    pass


def snapshot() -> list[tuple]:
    return list(
        Case.objects.order_by("id").values_list(
            "number",
            "status",
            "channel",
            "category_id",
            "grid_id",
            "lon",
            "lat",
            "created_at",
            "closed_at",
            "handling_unit_id",
            "assignee_id",
            "version",
        )
    )


class BulkLoadTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        demo_build(seed=2021)
        cls.indexes = bulk.secondary_indexes()
        cls.summary = bulk.bulk_load(cases=300, counties=3, seed=7, now=NOW)

    def test_each_county_gets_its_share_numbered_from_one(self):
        self.assertEqual(self.summary.cases, 300)
        by_county = {}
        for number in Case.objects.values_list("number", flat=True):
            by_county.setdefault(number[:6], []).append(number)
        self.assertEqual(sorted(by_county), ["360725", "360726", "360727"])
        self.assertEqual([len(by_county[c]) for c in sorted(by_county)], [100, 100, 100])
        for seq in CaseNumberSequence.objects.all():
            numbers = sorted(n for n in by_county[seq.county_code] if n.startswith(f"{seq.county_code}-{seq.year}-"))
            self.assertEqual(numbers, [f"{seq.county_code}-{seq.year}-{k:06d}" for k in range(1, seq.last + 1)])

    def test_a_copied_county_refers_only_to_its_own_places_units_and_staff(self):
        county = Region.objects.get(code="360726")
        cases = Case.objects.filter(region_code__startswith="360726")
        self.assertTrue(cases.exists())
        grids = dict(Grid.objects.values_list("pk", "region_code"))
        for case in cases.select_related("street", "community", "handling_unit__region"):
            self.assertEqual(grids[case.grid_id], case.region_code)
            self.assertTrue(case.street.code.startswith("360726") and case.community.code.startswith("360726"))
            if case.handling_unit_id:
                self.assertTrue(case.handling_unit.region.code.startswith("360726"), case.handling_unit)
        # The copy lies east of the demo county, with the same shape.
        base = Grid.objects.filter(region_code__startswith="360725").order_by("code").first()
        copy = Grid.objects.get(code="360726" + base.code[6:])
        self.assertAlmostEqual(copy.min_lon - base.min_lon, bulk.COUNTY_STEP_LON)
        self.assertEqual(copy.min_lat, base.min_lat)
        events = CaseEvent.objects.filter(case__in=cases)
        actors = set(events.exclude(actor=None).values_list("actor__username", flat=True))
        self.assertTrue(actors)
        self.assertTrue(all(name.endswith("@360726") for name in actors), actors)
        for event in events.exclude(unit=None).select_related("unit__region"):
            self.assertTrue(event.unit.region.code.startswith("360726"))
        named = [e.data["unit"]["id"] for e in events if isinstance(e.data.get("unit"), dict)]
        self.assertTrue(named)
        regions = set(OrgUnit.objects.filter(pk__in=named).values_list("region__code", flat=True))
        self.assertTrue(all(code.startswith("360726") for code in regions), regions)
        for row in Attachment.objects.filter(case__in=cases).select_related("event"):
            self.assertEqual(row.event.case_id, row.case_id)
        for row in Rating.objects.filter(case__in=cases).select_related("event"):
            self.assertEqual(row.event.case_id, row.case_id)
        for case in cases.exclude(duplicate_of=None).select_related("duplicate_of"):
            self.assertEqual(case.duplicate_of.number[:6], "360726")
        self.assertEqual(county.level, Region.Level.COUNTY)

    def test_every_case_has_its_rows(self):
        for case in Case.objects.all():
            self.assertTrue(case.events.exists(), case.number)
        self.assertEqual(CaseStage.objects.filter(case=None).count(), 0)
        # Ids were given by the loader: the database's own sequence goes on after them.
        user = User.objects.get(username="operator")
        from civicgrid.cases.services import ReportInput, case_report

        grid = Grid.objects.filter(region_code__startswith="360725").first()
        case = case_report(
            data=ReportInput(
                channel="operator",
                category_id=Case.objects.first().category_id,
                description="测试",
                lon=grid.centroid_lon,
                lat=grid.centroid_lat,
            ),
            actor=user,
        )
        self.assertEqual(case.pk, Case.objects.exclude(pk=case.pk).order_by("-pk").first().pk + 1)

    def test_the_indexes_are_back(self):
        self.assertEqual(bulk.secondary_indexes(), self.indexes)
        self.assertFalse(bulk._index_file().exists())

    def test_a_load_stopped_half_way_gets_its_indexes_back(self):
        dropped = bulk._secondary_indexes_dropped(rebuild=None)
        dropped.__enter__()  # as if the process were killed now
        # Every index is dropped but the partial ones (the open cases'), which the load keeps.
        self.assertEqual(bulk.secondary_indexes(partial=False), [])
        kept = [name for name, _sql in bulk.secondary_indexes()]
        self.assertEqual(kept, ["case_open_created", "case_supervised_open", "case_unit_supervised_open"])
        built = []
        self.assertEqual(bulk.restore_indexes(built.append), len(self.indexes) - len(kept))
        self.assertEqual(bulk.secondary_indexes(), self.indexes)
        self.assertEqual(len(built), len(self.indexes) - len(kept))

    def test_each_county_staff_sees_their_own_county(self):
        for username, county in (("dispatcher", "360725"), ("dispatcher@360726", "360726")):
            user = User.objects.get(username=username)
            numbers = set(queue_cases(user, "all").values_list("number", flat=True))
            self.assertTrue(numbers)
            self.assertEqual({n[:6] for n in numbers}, {county}, username)
        user = User.objects.get(username="dispatcher@360727")
        self.client.force_login(user)
        case = Case.objects.filter(region_code__startswith="360727").first()
        self.assertEqual(self.client.get(reverse("cases:detail", args=[case.pk])).status_code, 200)
        other = Case.objects.filter(region_code__startswith="360725").first()
        self.assertEqual(self.client.get(reverse("cases:detail", args=[other.pk])).status_code, 404)


class OneCountyTests(TestCase):
    def setUp(self):
        demo_build(seed=2021)

    def test_with_one_county_the_cases_are_the_simulators(self):
        try:
            with transaction.atomic():
                history_build(cases=150, seed=11, now=NOW)
                expected = snapshot()
                raise _Rollback
        except _Rollback:
            pass
        bulk.bulk_load(cases=150, counties=1, seed=11, now=NOW)
        self.assertEqual(snapshot(), expected)

    def test_the_command_draws_a_progress_bar_and_says_what_it_wrote(self):
        out = StringIO()
        call_command("load_cases", "200", "--counties", "2", "--no-photos", stdout=out)
        text = out.getvalue()
        self.assertIn("100.0%", text)
        self.assertIn("已写入案件 200 件（2 个县", text)
        self.assertEqual(Case.objects.filter(number__startswith="360726-").count(), 100)

    def test_the_command_refuses_bad_counts(self):
        from django.core.management.base import CommandError

        with self.assertRaisesMessage(CommandError, "案件数应大于 0"):
            call_command("load_cases", "0", stdout=StringIO())
        with self.assertRaisesMessage(CommandError, "县的个数"):
            call_command("load_cases", "10", "--counties", "100", stdout=StringIO())


@skipUnless(connection.vendor == "postgresql", "VACUUM and its statistics are PostgreSQL's")
class VacuumAfterLoadTests(TransactionTestCase):
    """Outside a transaction (as `load_cases` runs) the load leaves its tables vacuumed and
    analysed: the tab counts' index-only scans need the visibility map, the planner the
    statistics, and autovacuum should not start on the new rows during the first work."""

    def test_the_case_tables_are_vacuumed_and_analysed(self):
        demo_build(seed=2021)
        bulk.bulk_load(cases=40, counties=1, seed=5, photos=False, now=NOW)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(%s) "
                "AND last_vacuum IS NOT NULL AND last_analyze IS NOT NULL",
                [list(bulk.BULK_TABLES)],
            )
            done = {row[0] for row in cursor.fetchall()}
        self.assertEqual(done, set(bulk.BULK_TABLES))
