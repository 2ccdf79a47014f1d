"""Issuing API keys in the admin, and checking extra questions.

Ada is a superuser; the key she is shown once is the only copy.
"""

from django.core.exceptions import ValidationError
from django.test import TestCase

from civicgrid.catalog.models import Category, Kind
from civicgrid.core.models import User
from civicgrid.open311.models import App, ServiceAttribute, hash_key
from civicgrid.open311.services import DEMO_KEY, app_for_key, demo_app_ensure


class KeyIssueTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.ada = User.objects.create_superuser("ada", password="x")

    def setUp(self):
        self.client.force_login(self.ada)

    def key_on(self, response) -> str:
        text = response.content.decode()
        start = text.index("cg311_")
        return text[start : text.index("<", start)]

    def test_it_shows_a_new_key_once_and_stores_only_its_hash(self):
        response = self.client.post("/admin/open311/app/add/", {"name": "随手拍", "contact": "", "is_active": "on"})
        self.assertEqual(response.status_code, 200)
        self.assertIn("no-store", response["Cache-Control"])
        key = self.key_on(response)
        app = App.objects.get()
        self.assertEqual(app.key_hash, hash_key(key))
        self.assertEqual(app_for_key(key), app)
        self.assertNotIn(key, str(App.objects.values().get()))
        self.assertNotIn(key, str(dict(self.client.session)))
        # The change page never shows it again.
        self.assertNotIn(key, self.client.get(f"/admin/open311/app/{app.pk}/change/").content.decode())

    def test_it_replaces_a_lost_key(self):
        app = App(name="随手拍")
        old = app.issue_key()
        app.save()
        response = self.client.post("/admin/open311/app/", {"action": "issue_new_key", "_selected_action": [app.pk]})
        new = self.key_on(response)
        self.assertNotEqual(new, old)
        self.assertIsNone(app_for_key(old))
        self.assertEqual(app_for_key(new), app)

    def test_it_keeps_the_demo_key_working_after_a_second_demo_run(self):
        demo_app_ensure()
        demo_app_ensure()
        self.assertEqual(App.objects.count(), 1)
        self.assertIsNotNone(app_for_key(DEMO_KEY))


class ServiceAttributeTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.category = Category.objects.create(key="local:x", kind=Kind.EVENT, name="占道经营")

    def attribute(self, **kwargs) -> ServiceAttribute:
        return ServiceAttribute(category=self.category, code="size", description="大小", **kwargs)

    def test_it_needs_values_for_a_list(self):
        with self.assertRaises(ValidationError):
            self.attribute(datatype="singlevaluelist").full_clean()
        with self.assertRaises(ValidationError):
            self.attribute(
                datatype="multivaluelist", values=[{"key": "a", "name": "A"}, {"key": "a", "name": "B"}]
            ).full_clean()
        self.attribute(datatype="singlevaluelist", values=[{"key": "a", "name": "A"}]).full_clean()

    def test_it_refuses_values_for_other_datatypes(self):
        with self.assertRaises(ValidationError):
            self.attribute(datatype="number", values=[{"key": "a", "name": "A"}]).full_clean()
