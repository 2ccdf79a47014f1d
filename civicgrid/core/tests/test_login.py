import datetime

import time_machine
from django.test import TestCase, override_settings

from civicgrid.core.models import OrgUnit, Role, User
from civicgrid.workcalendar.models import CalendarDay


class LoginPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.unit = OrgUnit.objects.create(code="B01", name="县城市管理局", kind=OrgUnit.Kind.BUREAU)
        # Olivia is an operator of the bureau.
        cls.olivia = User.objects.create_user("olivia", password="s3cret-pass", role=Role.OPERATOR, org_unit=cls.unit)

    def test_it_serves_the_login_page_in_chinese(self):
        response = self.client.get("/accounts/login/")
        self.assertContains(response, "用户登录")
        self.assertContains(response, "用户名")
        self.assertContains(response, 'lang="zh-hans"')

    def test_it_redirects_anonymous_users_to_login(self):
        response = self.client.get("/")
        self.assertRedirects(response, "/accounts/login/?next=/")

    def test_it_logs_in_and_shows_the_role(self):
        response = self.client.post("/accounts/login/", {"username": "olivia", "password": "s3cret-pass"}, follow=True)
        self.assertContains(response, "受理员")

    def test_it_explains_a_wrong_password_in_chinese(self):
        response = self.client.post("/accounts/login/", {"username": "olivia", "password": "nope"})
        self.assertContains(response, "用户名或密码不正确")

    @override_settings(DEMO_MODE=True)
    def test_it_lists_demo_logins_only_in_demo_mode(self):
        self.assertContains(self.client.get("/accounts/login/"), "demo-inspector")

    @override_settings(DEMO_MODE=False)
    def test_it_hides_demo_logins_outside_demo_mode(self):
        self.assertNotContains(self.client.get("/accounts/login/"), "demo-inspector")


class HomePageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.olivia = User.objects.create_user("olivia", password="s3cret-pass", role=Role.OPERATOR)

    def setUp(self):
        self.client.force_login(self.olivia)

    def test_it_warns_when_next_years_holidays_are_missing(self):
        # The package knows 2026 but not 2027: in late 2026 the page says 2027 counts weekends only.
        with time_machine.travel("2026-11-27 10:00 +0800", tick=False):
            response = self.client.get("/")
        self.assertContains(response, "2027 年的法定节假日和调休安排尚未录入")
        self.assertNotContains(response, "2026 年的法定节假日")

    def test_it_stops_warning_once_an_admin_enters_the_year(self):

        CalendarDay.objects.create(date=datetime.date(2027, 2, 6), kind=CalendarDay.Kind.HOLIDAY, name="春节")
        with time_machine.travel("2026-11-27 10:00 +0800", tick=False):
            response = self.client.get("/")
        self.assertNotContains(response, "尚未录入")

    def test_it_offers_the_deadline_calculator(self):
        self.assertContains(self.client.get("/"), 'data-url="/api/v1/calendar/deadline"')
