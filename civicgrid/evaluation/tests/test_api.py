"""The evaluation API gives the indicator functions' figures, scoped to the reader, with Chinese errors.

Personas (cases.tests.fixtures): Carol is a leader who sees the whole county; Wes is an
operator scoped to the west street; Hank handles for 市政所 (scope: his unit, no region).
Everyone authenticates with a token, as the province's platform does.
"""

from decimal import Decimal

from django.test import TestCase
from rest_framework.authtoken.models import Token

from civicgrid.core.models import Role
from civicgrid.evaluation import indicators
from civicgrid.evaluation.api import row_json
from civicgrid.evaluation.models import EvaluationSettings
from civicgrid.evaluation.scoring import Scorer
from civicgrid.evaluation.tests.history import build_history
from civicgrid.evaluation.tests.test_indicators import MARCH

BASE = "/api/v1/evaluation/"


class EvaluationApiTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_history()
        cls.tokens = {name: Token.objects.create(user=cls.made[name]).key for name in ("carol", "wes", "hank")}

    def get(self, path: str, who: str = "carol", status: int = 200) -> dict:
        response = self.client.get(BASE + path, HTTP_AUTHORIZATION=f"Token {self.tokens[who]}")
        self.assertEqual(response.status_code, status, response.content.decode())
        return response.json()

    def expected(self, rows, object_type: str) -> list[dict]:
        Scorer().apply(object_type, rows)
        return [row_json(row) for row in rows]


class FiguresAgreeTests(EvaluationApiTestCase):
    def test_it_gives_the_region_rows(self):
        body = self.get("regions/?level=street&period=month&month=2026-03")
        config = EvaluationSettings.current()
        self.assertEqual(
            body["results"], self.expected(indicators.region_rows(MARCH, "street", config=config), "region")
        )
        self.assertEqual(body["period"]["label"], "2026年3月")
        self.assertEqual(body["period"]["start"], "2026-03-01T00:00:00+08:00")
        self.assertEqual(body["labels"]["closure_rate"], "结案率（%）")
        east = body["results"][0]
        # Worked out in test_indicators: 6 / 8 closed, 5 / 8 on time.
        self.assertEqual((east["code"], east["closure_rate"], east["on_time_rate"]), ("360725100", 75.0, 62.5))

    def test_it_gives_the_unit_rows_with_score_and_grade(self):
        body = self.get("units/?month=2026-03")
        config = EvaluationSettings.current()
        self.assertEqual(body["results"], self.expected(indicators.unit_rows(MARCH, config=config), "unit"))
        municipal = body["results"][0]
        self.assertEqual((municipal["code"], municipal["closure_rate"]), ("D01", 83.33))
        self.assertEqual((municipal["score"], municipal["grade"]), (77.33, "B"))
        self.assertEqual(municipal["average_handling_hours"], 8.53)

    def test_it_gives_the_staff_rows_of_each_role(self):
        config = EvaluationSettings.current()
        for role in (Role.INSPECTOR, Role.OPERATOR, Role.SHIFT_LEAD, Role.DISPATCHER):
            with self.subTest(role=str(role)):
                body = self.get(f"staff/?role={role}&month=2026-03")
                rows = indicators.staff_rows(MARCH, role, config=config)
                self.assertEqual(body["results"], self.expected(rows, role))
                self.assertEqual(body["role_label"], str(Role(role).label))
        dora = self.get("staff/?role=dispatcher&month=2026-03")["results"][0]
        self.assertEqual((dora["dispatched"], dora["accurate_dispatch_rate"], dora["grade"]), (9, 88.89, "A"))

    def test_it_gives_satisfaction_and_resolution(self):
        body = self.get("satisfaction/?month=2026-03")
        self.assertEqual((body["overall"]["rated"], body["overall"]["satisfaction_rate"]), (3, 66.67))
        self.assertIs(body["overall"]["meets_target"], False)
        self.assertEqual(body["settings"]["satisfaction_target"], 95.0)
        body = self.get("resolution/?month=2026-03")
        self.assertEqual(
            (body["overall"]["closures"], body["overall"]["service"], body["overall"]["service_share"]), (6, 4, 66.67)
        )
        self.assertEqual(
            body["settings"]["resolution_targets"], {"service": 70.0, "management": 20.0, "enforcement": 10.0}
        )

    def test_it_sums_up_the_county(self):
        body = self.get("summary/?month=2026-03")
        self.assertEqual((body["region"]["should_close"], body["region"]["closure_rate"]), (9, 77.78))
        self.assertEqual((body["region"]["score"], body["region"]["grade"]), (76.11, "B"))
        self.assertEqual(body["satisfaction"]["rated"], 3)
        self.assertEqual(body["resolution"]["closures"], 6)

    def test_it_follows_the_settings(self):
        EvaluationSettings.objects.filter(pk=1).update(exclude_deferred=False, satisfaction_target=Decimal("60"))
        body = self.get("summary/?month=2026-03")
        self.assertEqual((body["region"]["should_close"], body["region"]["closure_rate"]), (10, 70.0))
        self.assertIs(body["satisfaction"]["meets_target"], True)  # 66.67 ≥ 60

    def test_it_reads_other_periods(self):
        self.assertEqual(self.get("summary/?period=month&month=2026-04")["region"]["reports"], 1)  # M2
        self.assertEqual(self.get("summary/?period=quarter&quarter=2026-Q1")["region"]["reports"], 12)
        self.assertEqual(self.get("summary/?period=year&year=2026")["region"]["reports"], 13)
        self.assertEqual(self.get("summary/?period=day&date=2026-03-31")["region"]["reports"], 1)  # M1
        body = self.get("summary/?period=custom&start=2026-03-02&end=2026-03-02")
        self.assertEqual((body["region"]["reports"], body["period"]["label"]), (11, "2026年3月2日至2026年3月2日"))
        self.assertEqual(self.get("summary/?period=week&date=2026-03-04")["period"]["label"], "2026年第10周")

    def test_it_runs_a_fixed_number_of_queries(self):
        self.get("units/?month=2026-03")  # warm the token cache
        # settings, weights, grade bands + the facts' check + the four of unit_rows.
        with self.assertNumQueries(8):
            self.get("units/?month=2026-03")


class ScopeTests(EvaluationApiTestCase):
    def test_it_shows_a_street_reader_only_its_street(self):
        body = self.get("regions/?level=street&month=2026-03", who="wes")
        self.assertEqual([row["code"] for row in body["results"]], ["360725101"])
        body = self.get("units/?month=2026-03", who="wes")
        received = {row["code"]: row["received"] for row in body["results"]}
        self.assertEqual(received, {"D01": 0, "U01": 1})  # L only: F was in the east street
        self.assertEqual(self.get("summary/?month=2026-03", who="wes")["region"]["reports"], 1)

    def test_it_shows_a_unit_reader_only_its_unit(self):
        body = self.get("units/?month=2026-03", who="hank")
        self.assertEqual([row["code"] for row in body["results"]], ["D01"])
        body = self.get("satisfaction/?month=2026-03", who="hank")
        self.assertEqual([row["code"] for row in body["results"]], ["D01"])

    def test_it_refuses_region_and_staff_figures_to_a_unit_reader(self):
        for path in ("regions/", "staff/?role=inspector", "summary/"):
            with self.subTest(path=path):
                body = self.get(path, who="hank", status=403)
                self.assertIn("本单位", body["error"]["reason"])

    def test_it_requires_authentication(self):
        response = self.client.get(BASE + "units/")
        self.assertEqual(response.status_code, 401)


class ErrorTests(EvaluationApiTestCase):
    def test_it_explains_bad_parameters_in_chinese(self):
        cases = [
            ("units/?period=decade", "period", "统计周期"),
            ("units/?month=2026-13", "month", "YYYY-MM"),
            ("units/?period=quarter&quarter=2026-Q5", "quarter", "季度"),
            ("units/?period=year&year=26", "year", "年份"),
            ("units/?period=day&date=2026-02-30", "date", "日期格式"),
            ("units/?period=custom&start=2026-03-10", "end", "请提供日期"),
            ("units/?period=custom&start=2026-03-10&end=2026-03-01", "end", "不能早于"),
            ("units/?period=custom&start=2025-01-01&end=2026-03-01", "end", "366"),
            ("regions/?level=city", "level", "层级"),
            ("staff/?role=handler", "role", "角色"),
        ]
        for path, field, words in cases:
            with self.subTest(path=path):
                body = self.get(path, status=400)
                self.assertEqual(body["error"]["field"], field)
                self.assertIn(words, body["error"]["reason"])
                self.assertEqual(body["errors"], [body["error"]])
