from django.test import RequestFactory, TestCase
from django.utils.translation import gettext_lazy

from civicgrid.audit.models import AuditEntry
from civicgrid.audit.services import audit_contact_view, audit_context, audit_export, audit_suppressed
from civicgrid.catalog.models import Category, CategoryCode, StageTimeLimit
from civicgrid.catalog.services import catalog_load_reference
from civicgrid.core.models import OrgUnit, Role, User


class BulkLoadTests(TestCase):
    def test_it_writes_one_summary_for_a_bulk_load(self):
        catalog_load_reference()  # the loader opens its own audit_suppressed block
        entry = AuditEntry.objects.get()
        self.assertEqual(entry.kind, AuditEntry.Kind.CHANGE)
        self.assertEqual(entry.action, AuditEntry.Action.BULK)
        self.assertEqual(entry.note, "批量导入：部件事件分类参考数据")
        self.assertEqual(entry.changes["catalog.Category"]["create"], Category.objects.count())
        self.assertEqual(entry.changes["catalog.CategoryCode"]["create"], CategoryCode.objects.count())
        self.assertEqual(entry.changes["catalog.StageTimeLimit"]["create"], StageTimeLimit.objects.count())

    def test_it_joins_nested_loads_into_one_summary(self):
        with audit_suppressed("演示数据") as batch:
            OrgUnit.objects.create(code="B01", name="城管局", kind=OrgUnit.Kind.BUREAU)
            with audit_suppressed("单元网格导入") as inner:
                inner.count("geo.Grid", "create", 300)  # rows written with bulk_create
            self.assertIs(inner, batch)
        entry = AuditEntry.objects.get()
        self.assertEqual(entry.note, "批量导入：演示数据（含：单元网格导入）")
        self.assertEqual(entry.changes, {"core.OrgUnit": {"create": 1}, "geo.Grid": {"create": 300}})

    def test_it_writes_nothing_when_the_load_fails(self):
        with self.assertRaises(ValueError), audit_suppressed("失败的导入"):
            OrgUnit.objects.create(code="B01", name="城管局", kind=OrgUnit.Kind.BUREAU)
            raise ValueError("bad row")
        self.assertFalse(OrgUnit.objects.exists())
        self.assertFalse(AuditEntry.objects.exists())

    def test_it_logs_rows_one_by_one_again_after_the_load(self):
        with audit_suppressed("单位"):
            OrgUnit.objects.create(code="B01", name="城管局", kind=OrgUnit.Kind.BUREAU)
        OrgUnit.objects.create(code="B02", name="监督中心", kind=OrgUnit.Kind.SUPERVISION_CENTER)
        self.assertEqual(AuditEntry.objects.count(), 2)
        self.assertEqual(AuditEntry.objects.latest("id").object_repr, "监督中心")


class ContactViewTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        # Olivia is an operator who opens a reporter's phone number; the unit stands in for a case.
        cls.olivia = User.objects.create_user("olivia", role=Role.OPERATOR, display_name="欧丽")
        cls.unit = OrgUnit.objects.create(code="B01", name="城管局", kind=OrgUnit.Kind.BUREAU, phone="0797-1")

    def test_it_records_a_view_of_contact_details(self):
        request = RequestFactory().get("/cases/1/", REMOTE_ADDR="10.2.3.4", HTTP_USER_AGENT="UA")
        request.audit_request_id = "req-1"
        entry = audit_contact_view(actor=self.olivia, obj=self.unit, request=request, note="查看举报人电话")
        entry.refresh_from_db()
        self.assertEqual(entry.kind, AuditEntry.Kind.CONTACT_VIEW)
        self.assertEqual(entry.actor, self.olivia)
        self.assertEqual(entry.actor_name, "欧丽（olivia）")
        self.assertEqual((entry.content_type.model, entry.object_id), ("orgunit", str(self.unit.pk)))
        self.assertEqual(entry.object_repr, "城管局")
        self.assertEqual((entry.ip, entry.user_agent, entry.request_id), ("10.2.3.4", "UA", "req-1"))
        self.assertEqual(entry.note, "查看举报人电话")

    def test_it_accepts_a_lazy_translated_note(self):
        entry = audit_contact_view(actor=self.olivia, obj=self.unit, note=gettext_lazy("案件页面"))
        entry.refresh_from_db()
        self.assertEqual(entry.note, "案件页面")

    def test_it_records_a_view_without_a_request(self):
        entry = audit_contact_view(actor=self.olivia, obj=self.unit)
        self.assertIsNone(entry.ip)
        self.assertEqual(entry.actor, self.olivia)

    def test_it_records_an_export(self):
        entry = audit_export(actor=self.olivia, what="部件事件分类（Excel）")
        self.assertEqual((entry.kind, entry.object_repr), (AuditEntry.Kind.EXPORT, "部件事件分类（Excel）"))
        self.assertIsNone(entry.content_type)

    def test_it_names_the_actor_of_a_job(self):
        with audit_context(actor=self.olivia, note="夜间同步"):
            unit = OrgUnit.objects.create(code="B02", name="监督中心", kind=OrgUnit.Kind.SUPERVISION_CENTER)
        entry = AuditEntry.objects.get(object_id=str(unit.pk), action=AuditEntry.Action.CREATE)
        self.assertEqual((entry.actor, entry.note), (self.olivia, "夜间同步"))

    def test_it_keeps_entries_append_only(self):
        entry = audit_export(actor=self.olivia, what="网格")
        entry.note = "改写"
        with self.assertRaises(ValueError):
            entry.save()
        with self.assertRaises(ValueError):
            entry.delete()


class BulkChangeTests(TestCase):
    def test_it_names_a_bulk_update_and_skips_bookkeeping_saves(self):
        category = Category.objects.create(kind="event", name="占道经营")
        with audit_suppressed("确认为本地标准", prefix="批量修改") as batch:
            category.reference_values = {"name": "占道经营"}
            category.save(update_fields=["reference_values"])  # loader bookkeeping: not a change
            n = Category.objects.filter(pk=category.pk).update(filing_condition_confirmed=True)
            batch.count(Category, "update", n)
        entry = AuditEntry.objects.get(action=AuditEntry.Action.BULK)
        self.assertEqual(entry.note, "批量修改：确认为本地标准")
        self.assertEqual(entry.changes, {"catalog.Category": {"update": 1}})


class WiredBulkWritesTests(TestCase):
    def test_it_summarises_a_grid_import_in_one_entry(self):
        from civicgrid.geo.services import grids_import
        from civicgrid.geo.tests.fixtures import G1, GEOMETRIES, build_county

        made = build_county(with_grids=False)
        AuditEntry.objects.all().delete()
        feature = {
            "type": "Feature",
            "geometry": GEOMETRIES[G1],
            "properties": {"code": G1, "community": "360725100001"},
        }
        grids_import({"type": "FeatureCollection", "features": [feature]}, county=made["county"])
        entry = AuditEntry.objects.get()
        self.assertEqual(entry.changes, {"geo.Grid": {"create": 1, "update": 0}})
        self.assertIn("单元网格导入", entry.note)
