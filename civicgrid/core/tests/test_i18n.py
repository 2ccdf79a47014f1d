import ast
import gettext
from pathlib import Path

from django.conf import settings
from django.test import TestCase
from django.utils import translation

from civicgrid.core.models import OrgUnit, Role, User

EN_MESSAGES = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"


def read_po(path: Path) -> list[dict]:
    """The entries of a .po file (header and obsolete entries left out), each a dict of
    keyword -> text (msgctxt, msgid, msgid_plural, msgstr, msgstr[0], ...) plus "flags"."""
    entries: list[dict] = []
    entry: dict = {"flags": set()}
    keyword = None

    def finish():
        nonlocal entry
        if "msgid" in entry and entry["msgid"] != "":
            entries.append(entry)
        entry = {"flags": set()}

    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#,"):
            if "msgid" in entry:
                finish()
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            if "msgid" in entry:
                finish()
        elif line.startswith('"'):
            entry[keyword] += ast.literal_eval(line)
        else:
            keyword, text = line.split(" ", 1)
            if keyword in ("msgctxt", "msgid") and "msgid" in entry:
                finish()
            entry[keyword] = ast.literal_eval(text)
    finish()
    return entries


class EnglishLoginPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.unit = OrgUnit.objects.create(code="B01", name="县城市管理局", kind=OrgUnit.Kind.BUREAU)
        # Olivia is an operator of the bureau.
        cls.olivia = User.objects.create_user("olivia", password="s3cret-pass", role=Role.OPERATOR, org_unit=cls.unit)

    def assertEnglish(self, response):
        self.assertContains(response, 'lang="en"')
        self.assertContains(response, "<h2>Sign in</h2>", html=False)
        self.assertContains(response, "Username")
        self.assertNotContains(response, "用户登录")

    def test_it_serves_the_login_page_in_english_for_an_english_browser(self):
        response = self.client.get("/accounts/login/", headers={"accept-language": "en"})
        self.assertEnglish(response)

    def test_it_serves_the_login_page_in_english_for_the_language_cookie(self):
        self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        self.assertEnglish(self.client.get("/accounts/login/"))

    def test_it_switches_to_english_with_the_language_button(self):
        response = self.client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"}, follow=True)
        self.assertRedirects(response, "/accounts/login/")
        self.assertEnglish(response)
        # The choice sticks for the next request, and the button offers the way back.
        response = self.client.get("/accounts/login/")
        self.assertEnglish(response)
        self.assertContains(response, 'value="zh-hans"')

    def test_it_switches_back_to_chinese(self):
        self.client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
        response = self.client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/accounts/login/"}, follow=True)
        self.assertContains(response, "用户登录")
        self.assertContains(response, 'lang="zh-hans"')

    def test_it_stays_chinese_without_a_preference(self):
        response = self.client.get("/accounts/login/")
        self.assertContains(response, "用户登录")
        self.assertContains(response, 'lang="zh-hans"')
        self.assertNotContains(response, "Sign in")

    def test_it_explains_a_wrong_password_in_english(self):
        response = self.client.post(
            "/accounts/login/", {"username": "olivia", "password": "nope"}, headers={"accept-language": "en"}
        )
        self.assertContains(response, "Incorrect username or password")

    def test_it_shows_the_role_in_english_after_login(self):
        self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        response = self.client.post("/accounts/login/", {"username": "olivia", "password": "s3cret-pass"}, follow=True)
        self.assertContains(response, "Operator")
        self.assertContains(response, "Sign out")


class EnglishCatalogueTests(TestCase):
    def test_it_translates_every_entry_of_the_po_file(self):
        entries = read_po(EN_MESSAGES / "django.po")
        self.assertGreater(len(entries), 100)
        for entry in entries:
            with self.subTest(msgid=entry["msgid"]):
                self.assertNotIn("fuzzy", entry["flags"])
                translations = [v for k, v in entry.items() if k.startswith("msgstr")]
                self.assertTrue(translations)
                self.assertTrue(all(translations), "empty msgstr")

    def test_it_compiled_the_po_file_into_the_committed_mo_file(self):
        # `manage.py compilemessages` after every .po change: the .mo carries the same
        # entries with the same translations.
        entries = read_po(EN_MESSAGES / "django.po")
        with open(EN_MESSAGES / "django.mo", "rb") as mo_file:
            mo = gettext.GNUTranslations(mo_file)
        compiled = {key[0] if isinstance(key, tuple) else key for key in mo._catalog} - {""}
        self.assertEqual(len(compiled), len(entries))
        for entry in entries:
            context = entry.get("msgctxt")
            with self.subTest(msgid=entry["msgid"]):
                if "msgid_plural" in entry:
                    for n, form in ((1, "msgstr[0]"), (2, "msgstr[1]")):
                        if context is None:
                            self.assertEqual(mo.ngettext(entry["msgid"], entry["msgid_plural"], n), entry[form])
                        else:
                            self.assertEqual(
                                mo.npgettext(context, entry["msgid"], entry["msgid_plural"], n), entry[form]
                            )
                elif context is None:
                    self.assertEqual(mo.gettext(entry["msgid"]), entry["msgstr"])
                else:
                    self.assertEqual(mo.pgettext(context, entry["msgid"]), entry["msgstr"])

    def test_it_translates_model_choices(self):
        with translation.override("en"):
            self.assertEqual(Role.SHIFT_LEAD.label, "Shift lead")
            self.assertEqual(str(User._meta.get_field("role").verbose_name), "Role")
        with translation.override("zh-hans"):
            self.assertEqual(Role.SHIFT_LEAD.label, "值班长")
