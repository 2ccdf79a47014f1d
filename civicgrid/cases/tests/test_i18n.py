"""Case errors in the user's language: Chinese by default, English when the request asks for it.

LocaleMiddleware picks the language from the language cookie or the Accept-Language header;
the services, the transition table and the API translate their reasons when they raise them.
Personas are those of civicgrid.cases.tests.fixtures: Ivy the east street's inspector, Otto
the operator, Dora the dispatcher, Hank the municipal department's handler.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.conf import settings
from django.test import TestCase
from django.utils import translation
from rest_framework.authtoken.models import Token

from civicgrid.cases.services import ActInput, case_act
from civicgrid.cases.tests.fixtures import build_people, report
from civicgrid.cases.workflow import Status

TZ = ZoneInfo("Asia/Shanghai")
MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
ENGLISH = {"accept-language": "en"}


class I18nTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_people()

    def setUp(self):
        traveller = time_machine.travel(MONDAY_9, tick=False)
        traveller.start()
        self.addCleanup(traveller.stop)
        # A request activates its language; later code in the test runs in the default again.
        self.addCleanup(translation.deactivate)

    def service(self, case, action: str, who: str, **kwargs):
        case.refresh_from_db()
        return case_act(
            case_id=case.pk, data=ActInput(action=action, version=case.version, **kwargs), actor=self.made[who]
        )


class ApiErrorLanguageTests(I18nTestCase):
    def api(self, who: str) -> dict:
        return {"authorization": f"Token {Token.objects.get_or_create(user=self.made[who])[0].key}"}

    def act(self, who: str, case, action: str, headers: dict | None = None, **fields):
        case.refresh_from_db()
        return self.client.post(
            f"/api/v1/cases/{case.pk}/actions/{action}/",
            {"version": case.version, **fields},
            content_type="application/json",
            headers={**self.api(who), **(headers or {})},
        )

    def assertReason(self, response, status: int, field: str | None, reason: str):
        self.assertEqual(response.status_code, status, response.content.decode())
        self.assertEqual(response.json()["error"], {"field": field, "reason": reason})

    def test_it_explains_a_service_refusal_in_english_when_asked(self):
        case = report(self.made)
        response = self.act("otto", case, "reject", note="  ", headers=ENGLISH)
        self.assertReason(response, 400, "note", "Enter a reason")

    def test_it_explains_a_service_refusal_in_chinese_by_default(self):
        case = report(self.made)
        response = self.act("otto", case, "reject", note="  ")
        self.assertReason(response, 400, "note", "请填写原因")

    def test_it_follows_the_language_cookie(self):
        case = report(self.made)
        self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        response = self.act("dora", case, "file")
        # The transition table's refusal, with the role and the action in English too.
        self.assertReason(response, 403, None, "The role “Dispatcher” may not do “File”.")

    def test_it_names_the_wrong_status_in_english(self):
        case = report(self.made)
        response = self.act("dora", case, "dispatch", unit=self.made["municipal"].pk, headers=ENGLISH)
        self.assertReason(response, 409, None, "The case's status is “To file”: “Dispatch” is not possible.")
        self.assertEqual(response.json()["current_status_label"], "To file")
        response = self.act("dora", case, "dispatch", unit=self.made["municipal"].pk)
        self.assertReason(response, 409, None, "案件当前状态为“待立案”，不能执行“派遣”。")

    def test_it_fills_placeholders_in_english(self):
        case = report(self.made)
        self.service(case, "file", "otto")
        self.service(case, "dispatch", "dora", unit_id=self.made["municipal"].pk)
        self.service(case, "sign", "hank")
        response = self.act("hank", case, "request_extension", note="雨天", amount="5000", headers=ENGLISH)
        self.assertReason(response, 400, "amount", "The extra time must be greater than 0 and at most 1000")
        response = self.act("hank", case, "request_extension", note="雨天", amount="5000")
        self.assertReason(response, 400, "amount", "延长的时限应大于 0 且不超过 1000")

    def test_it_answers_not_found_and_bad_input_in_english(self):
        auth = self.api("otto")
        response = self.client.get("/api/v1/cases/999999/", headers={**auth, **ENGLISH})
        self.assertReason(response, 404, None, "The case does not exist or is outside your data scope")
        response = self.client.get("/api/v1/cases/", {"date_from": "yesterday"}, headers={**auth, **ENGLISH})
        self.assertReason(response, 400, "date_from", "date_from must be a date, for example 2026-03-01")
        response = self.client.post(
            "/api/v1/cases/",
            {"channel": "operator", "category": self.made["category"].pk, "lon": 0, "lat": 0},
            content_type="application/json",
            headers={**auth, **ENGLISH},
        )
        self.assertReason(response, 400, "description", "Enter a description")
        # The same requests without a preference stay Chinese.
        response = self.client.get("/api/v1/cases/999999/", headers=auth)
        self.assertReason(response, 404, None, "案件不存在或不在您的数据权限范围内")
        response = self.client.get("/api/v1/cases/", {"date_from": "yesterday"}, headers=auth)
        self.assertReason(response, 400, "date_from", "date_from 应为日期，例如 2026-03-01")


class CasePageErrorLanguageTests(I18nTestCase):
    def post_action(self, case, action: str, who: str, headers: dict | None = None, **fields):
        self.client.force_login(self.made[who])
        case.refresh_from_db()
        data = {"action": action, f"{action}-version": case.version}
        data.update({f"{action}-{name}": value for name, value in fields.items()})
        return self.client.post(f"/cases/{case.pk}/act/", data, headers=headers or {})

    def test_it_shows_a_refused_action_in_english(self):
        case = report(self.made)
        response = self.post_action(case, "file", "ivy", headers=ENGLISH)
        self.assertContains(response, "The role “Inspector” may not do “File”.", status_code=403)
        self.assertNotContains(response, "无权执行", status_code=403)
        response = self.post_action(case, "file", "ivy")
        self.assertContains(response, "角色“监督员”无权执行“立案”。", status_code=403)
        case.refresh_from_db()
        self.assertEqual(case.status, Status.PENDING_FILING)

    def test_it_puts_the_services_reason_beside_the_field_in_english(self):
        case = report(self.made)
        self.service(case, "file", "otto")
        self.service(case, "dispatch", "dora", unit_id=self.made["municipal"].pk)
        self.service(case, "sign", "hank")
        response = self.post_action(case, "request_extension", "hank", note="雨天", amount="5000", headers=ENGLISH)
        self.assertContains(response, "The extra time must be greater than 0 and at most 1000", status_code=400)
        response = self.post_action(case, "request_extension", "hank", note="雨天", amount="5000")
        self.assertContains(response, "延长的时限应大于 0 且不超过 1000", status_code=400)
