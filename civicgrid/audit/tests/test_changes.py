import datetime
import sys
from decimal import Decimal
from unittest import mock

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.test import TestCase

from civicgrid.audit.models import AuditEntry
from civicgrid.audit.tests.helpers import all_entries_text, change_form_data
from civicgrid.catalog.models import Category, StageTimeLimit
from civicgrid.core.models import OrgUnit, User
from civicgrid.geo.models import Grid, Region
from civicgrid.geo.tests.fixtures import G1, G3, build_county, square
from civicgrid.workcalendar.models import CalendarDay
from civicgrid.workcalendar.services import calendar_day_delete, calendar_day_set


def last_change(obj) -> AuditEntry:
    """The newest change entry of `obj`."""
    entries = AuditEntry.objects.filter(kind=AuditEntry.Kind.CHANGE, object_id=str(obj.pk))
    return entries.filter(content_type__app_label=obj._meta.app_label, content_type__model=obj._meta.model_name).latest(
        "id"
    )


class AdminChangeTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        # Alice is the bureau's system administrator: she edits reference data in the admin.
        cls.alice = User.objects.create_superuser("alice", password="pw-alice-123", display_name="王管理")
        cls.unit = OrgUnit.objects.create(code="D01", name="市政设施科", kind=OrgUnit.Kind.DEPARTMENT)
        cls.county = Region.objects.create(
            code="360725", name="崇义县", level=Region.Level.COUNTY, boundary=square(-1, -1, 8, 5)
        )
        cls.category = Category.objects.create(key="local:test", kind="event", name="道路积水")
        StageTimeLimit.objects.create(
            category=cls.category, stage="handle", amount=Decimal("6"), unit="natural_hours", note="参考"
        )

    def setUp(self):
        self.client.force_login(self.alice)

    def edit(self, url, **changes):
        data = change_form_data(self.client.get(url))
        data.update(changes)
        response = self.client.post(url, data, REMOTE_ADDR="10.9.8.7")
        self.assertEqual(
            response.status_code, 302, getattr(response, "context", None) and response.context.get("errors")
        )

    def test_it_records_an_org_unit_update_with_old_and_new_values(self):
        self.edit(f"/admin/core/orgunit/{self.unit.pk}/change/", name="市政设施管理科", phone="0797-1234567")
        entry = last_change(self.unit)
        self.assertEqual(entry.action, AuditEntry.Action.UPDATE)
        self.assertEqual(entry.changes, {"name": ["市政设施科", "市政设施管理科"], "phone": ["", "0797-1234567"]})
        self.assertEqual(entry.actor, self.alice)
        self.assertEqual(entry.actor_name, "王管理（alice）")
        self.assertEqual(entry.ip, "10.9.8.7")
        self.assertEqual(entry.object_repr, "市政设施管理科")

    def test_it_records_a_region_update_without_noise_from_the_boundary(self):
        self.edit(f"/admin/geo/region/{self.county.pk}/change/", name="崇义县（新）")
        self.assertEqual(last_change(self.county).changes, {"name": ["崇义县", "崇义县（新）"]})

    def test_it_records_a_boundary_change_as_hash_and_bbox(self):
        self.county.boundary = square(-2, -2, 9, 6)
        self.county.save()
        old, new = last_change(self.county).changes["boundary"]
        self.assertEqual(new["type"], "Polygon")
        self.assertEqual(new["points"], 5)
        self.assertEqual(new["bbox"], [114.298, 25.668, 114.309, 25.676])
        self.assertNotEqual(old["sha256"], new["sha256"])
        self.assertNotIn("coordinates", all_entries_text())

    def test_it_records_a_category_update_and_its_inline_time_limit(self):
        limit = self.category.time_limits.get()
        self.edit(
            f"/admin/catalog/category/{self.category.pk}/change/",
            name="道路积水（暴雨）",
            filing_condition_confirmed="on",
            **{"time_limits-0-amount": "4", "time_limits-0-confirmed": "on"},
        )
        self.assertEqual(
            last_change(self.category).changes,
            {"name": ["道路积水", "道路积水（暴雨）"], "filing_condition_confirmed": [False, True]},
        )
        self.assertEqual(last_change(limit).changes, {"amount": ["6", "4"], "confirmed": [False, True]})
        self.assertEqual(last_change(limit).actor, self.alice)

    def test_it_records_nothing_when_a_form_is_saved_unchanged(self):
        before = AuditEntry.objects.filter(kind=AuditEntry.Kind.CHANGE).count()
        self.edit(f"/admin/core/orgunit/{self.unit.pk}/change/")
        self.edit(f"/admin/catalog/category/{self.category.pk}/change/")
        self.assertEqual(AuditEntry.objects.filter(kind=AuditEntry.Kind.CHANGE).count(), before)

    def test_it_masks_a_password_set_in_the_admin(self):
        response = self.client.post(
            f"/admin/core/user/{self.alice.pk}/password/",
            {"password1": "New-Secret-PW-77", "password2": "New-Secret-PW-77", "usable_password": "true"},
        )
        self.assertEqual(response.status_code, 302)
        self.assertEqual(last_change(self.alice).changes, {"password": ["***", "***"]})
        text = all_entries_text()
        self.assertNotIn("New-Secret-PW-77", text)
        self.assertNotIn(User.objects.get(pk=self.alice.pk).password, text)
        self.assertNotIn("pw-alice-123", text)


class ChangeOutsideRequestTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_county()

    def test_it_records_no_actor_outside_a_request(self):
        day = calendar_day_set(day=datetime.date(2027, 2, 6), kind=CalendarDay.Kind.HOLIDAY, name="春节")
        entry = last_change(day)
        self.assertEqual(entry.action, AuditEntry.Action.CREATE)
        self.assertIsNone(entry.actor)
        self.assertEqual(entry.actor_name, "")
        self.assertIsNone(entry.ip)
        self.assertEqual(entry.changes, {"date": "2027-02-06", "kind": "holiday", "name": "春节", "note": ""})

    def test_it_notes_the_management_command(self):
        with mock.patch.object(sys, "argv", ["manage.py", "import_calendar_days", "2027.txt"]):
            day = calendar_day_set(day=datetime.date(2027, 2, 7), kind=CalendarDay.Kind.HOLIDAY)
        self.assertEqual(last_change(day).note, "命令：import_calendar_days")
        with mock.patch.object(sys, "argv", ["/srv/civicgrid/civicgrid/__main__.py", "demo", "--force"]):
            calendar_day_set(day=day.date, kind=CalendarDay.Kind.WORKDAY)
        self.assertEqual(last_change(day).note, "命令：demo")

    def test_it_records_a_delete_with_the_old_values(self):
        day = calendar_day_set(day=datetime.date(2027, 2, 8), kind=CalendarDay.Kind.HOLIDAY, name="春节")
        calendar_day_delete(day=day.date)
        entry = last_change(day)
        self.assertEqual(entry.action, AuditEntry.Action.DELETE)
        self.assertEqual(entry.changes["name"], "春节")
        self.assertEqual(entry.object_repr, "2027-02-08 春节")

    def test_it_leaves_no_entry_when_the_transaction_rolls_back(self):
        unit = OrgUnit.objects.get(code="B01")
        entries = AuditEntry.objects.count()
        with self.assertRaises(RuntimeError), transaction.atomic():
            unit.name = "改名后回滚"
            unit.save()
            OrgUnit.objects.create(code="X01", name="回滚的单位", kind=OrgUnit.Kind.CONTRACTOR)
            self.assertEqual(AuditEntry.objects.count(), entries + 2)
            raise RuntimeError("import failed")
        self.assertEqual(AuditEntry.objects.count(), entries)

    def test_it_stores_a_new_grid_geometry_as_hash_and_bbox(self):
        entry = AuditEntry.objects.filter(object_repr=G1, action=AuditEntry.Action.CREATE).get()
        self.assertEqual(entry.changes["geometry"]["bbox"], [114.3, 25.67, 114.301, 25.671])
        self.assertNotIn("min_lon", entry.changes)
        self.assertEqual(entry.changes["community"], self.made["east1"].pk)

    def test_it_records_responsibility_grid_membership_from_either_side(self):
        rgrid = self.made["rgrid"]
        g1, g3 = Grid.objects.get(code=G1), Grid.objects.get(code=G3)
        g3.responsibility_grids.add(rgrid)
        entry = last_change(g3)
        self.assertEqual(entry.changes, {"responsibility_grids": [[], [rgrid.pk]]})
        rgrid.grids.remove(g1)
        old, new = last_change(rgrid).changes["grids"]
        self.assertIn(g1.pk, old)
        self.assertNotIn(g1.pk, new)
        self.assertIn(g3.pk, new)

    def test_it_records_a_users_groups(self):
        group = Group.objects.create(name="值班长组")
        ivy = self.made["ivy"]
        ivy.groups.add(group)
        self.assertEqual(last_change(ivy).changes, {"groups": [[], [group.pk]]})

    def test_it_never_logs_a_password_hash(self):
        ivy = self.made["ivy"]
        ivy.set_password("Ivy-Secret-99")
        ivy.save()
        self.assertEqual(last_change(ivy).changes, {"password": ["***", "***"]})
        created = AuditEntry.objects.get(object_repr="admin", action=AuditEntry.Action.CREATE)
        self.assertNotIn("password", created.changes)
        text = all_entries_text()
        self.assertNotIn(User.objects.get(pk=ivy.pk).password, text)
        self.assertNotIn(User.objects.get(username="admin").password, text)
        self.assertNotIn("Ivy-Secret-99", text)

    def test_it_ignores_saves_of_untracked_fields_only(self):
        category = Category.objects.create(kind="event", name="占道经营")
        entries = AuditEntry.objects.count()
        category.reference_values = {"name": "占道经营"}
        category.save(update_fields=["reference_values"])
        self.assertEqual(AuditEntry.objects.count(), entries)

    def test_it_forgets_the_snapshot_of_a_failed_save(self):
        first = Category.objects.create(kind="event", name="甲", key="local:a")
        Category.objects.create(kind="event", name="乙", key="local:b")
        first.key = "local:b"
        with self.assertRaises(IntegrityError), transaction.atomic():
            first.save()
        first.key, first.name = "local:a", "甲（未保存）"
        entries = AuditEntry.objects.count()
        first.save(update_fields=["reference_values"])  # saves no logged field: nothing to record
        self.assertEqual(AuditEntry.objects.count(), entries)

    def test_it_compares_values_as_stored(self):
        limit = StageTimeLimit.objects.create(
            category=Category.objects.create(kind="event", name="乱堆物料"),
            stage="handle",
            amount=6,
            unit="natural_hours",
        )
        entries = AuditEntry.objects.count()
        limit.refresh_from_db()
        limit.amount = 6  # an int for Decimal("6.00"): the same value
        limit.save()
        self.assertEqual(AuditEntry.objects.count(), entries)


class Open311AuditTests(TestCase):
    def test_it_records_a_key_issued_without_the_key_or_its_digest(self):
        from civicgrid.open311.models import App

        app = App(name="市民随手拍")
        first = app.issue_key()
        app.save()
        created = last_change(app)
        self.assertEqual(created.action, AuditEntry.Action.CREATE)
        second = app.issue_key()
        app.save()
        replaced = last_change(app)
        self.assertEqual(replaced.action, AuditEntry.Action.UPDATE)
        self.assertEqual(replaced.changes["key_hash"], ["***", "***"])
        text = all_entries_text()
        for secret in (first, second, App.objects.get(pk=app.pk).key_hash):
            self.assertNotIn(secret, text)
