from django.contrib.auth.models import Permission
from django.test import TestCase

from civicgrid.audit.models import AuditEntry
from civicgrid.audit.services import audit_suppressed
from civicgrid.audit.tests.helpers import change_form_data
from civicgrid.core.models import OrgUnit, User

CHANGELIST = "/admin/audit/auditentry/"


class AuditAdminTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        # Alice is the system administrator (superuser): she reads the log.
        cls.alice = User.objects.create_superuser("alice", password="pw-alice-123", display_name="王管理")
        # Sam is staff with every permission, audit ones included, but not a superuser: no log for him.
        cls.sam = User.objects.create_user("sam", password="pw-sam-12345", is_staff=True)
        cls.sam.user_permissions.set(Permission.objects.all())
        cls.unit = OrgUnit.objects.create(code="D01", name="市政设施科", kind=OrgUnit.Kind.DEPARTMENT)

    def edit_unit(self):
        self.client.force_login(self.alice)
        url = f"/admin/core/orgunit/{self.unit.pk}/change/"
        data = change_form_data(self.client.get(url))
        data["name"] = "市政设施管理科"
        self.assertEqual(self.client.post(url, data, REMOTE_ADDR="10.9.8.7").status_code, 302)
        return AuditEntry.objects.filter(action=AuditEntry.Action.UPDATE).latest("id")

    def test_it_lists_entries_for_a_superuser(self):
        self.edit_unit()
        response = self.client.get(CHANGELIST)
        self.assertContains(response, "审计日志")
        self.assertContains(response, "单位：市政设施管理科")
        self.assertContains(response, "10.9.8.7")
        self.assertContains(response, "登录成功")

    def test_it_filters_and_searches(self):
        self.edit_unit()
        for params in (
            {"kind": "change"},
            {"action": "update"},
            {"q": "10.9.8"},
            {"q": "王管理"},
            {"at__year": "2026"},
        ):
            with self.subTest(params=params):
                self.assertEqual(self.client.get(CHANGELIST, params).status_code, 200)
        response = self.client.get(CHANGELIST, {"q": "市政设施管理科"})
        self.assertContains(response, "单位：市政设施管理科")
        self.assertContains(response, "1 条结果")

    def test_it_shows_changes_as_a_table(self):
        entry = self.edit_unit()
        response = self.client.get(f"{CHANGELIST}{entry.pk}/change/")
        self.assertContains(response, "<th>字段</th><th>原值</th><th>新值</th>", html=False)
        self.assertContains(
            response, "<tr><td>单位名称（name）</td><td>市政设施科</td><td>市政设施管理科</td></tr>", html=False
        )
        self.assertNotContains(response, 'name="_save"')

    def test_it_shows_a_create_with_related_names(self):
        self.client.force_login(self.alice)
        OrgUnit.objects.create(code="D02", name="路灯所", kind=OrgUnit.Kind.DEPARTMENT, parent=self.unit)
        entry = AuditEntry.objects.get(object_repr="路灯所", action=AuditEntry.Action.CREATE)
        response = self.client.get(f"{CHANGELIST}{entry.pk}/change/")
        self.assertContains(response, "<td>上级单位（parent）</td><td>—</td><td>市政设施科</td>", html=False)

    def test_it_shows_a_bulk_summary(self):
        with audit_suppressed("单位"):
            OrgUnit.objects.create(code="D03", name="环卫所", kind=OrgUnit.Kind.DEPARTMENT)
        entry = AuditEntry.objects.get(action=AuditEntry.Action.BULK)
        self.client.force_login(self.alice)
        response = self.client.get(f"{CHANGELIST}{entry.pk}/change/")
        self.assertContains(response, "<td>单位</td><td>新增 1</td>", html=False)

    def test_it_lets_nobody_add_change_or_delete(self):
        entry = self.edit_unit()
        self.assertEqual(self.client.get(f"{CHANGELIST}add/").status_code, 403)
        self.assertEqual(self.client.post(f"{CHANGELIST}{entry.pk}/delete/", {"post": "yes"}).status_code, 403)
        self.client.post(f"{CHANGELIST}{entry.pk}/change/", {"note": "改写"})
        entry.refresh_from_db()
        self.assertEqual(entry.note, "")

    def test_it_hides_the_log_from_staff_who_are_not_superusers(self):
        self.client.force_login(self.sam)
        self.assertEqual(self.client.get(CHANGELIST).status_code, 403)
        self.assertNotContains(self.client.get("/admin/"), CHANGELIST)
        self.assertEqual(self.client.get("/admin/audit/").status_code, 404)
