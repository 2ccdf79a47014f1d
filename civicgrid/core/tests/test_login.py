from django.test import TestCase, override_settings

from civicgrid.core.models import OrgUnit, Role, User


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
