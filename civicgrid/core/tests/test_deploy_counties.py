"""Several counties on one platform (docs/deploy.md, "Growing"): one database, scoped by region code.

崇义县 (360725) is the hand-built county of civicgrid.cases.tests.fixtures; 瑞金市 (360781) is a
second county beside it, with one street, one community and one grid. Each county's center
operator is scoped to their county: they see their county's cases only, and case numbers are
counted per county.
"""

from __future__ import annotations

from django.test import TestCase
from rest_framework.authtoken.models import Token

from civicgrid.cases import reference
from civicgrid.cases.models import Case
from civicgrid.cases.services import InvalidInput
from civicgrid.cases.tests.fixtures import EAST_POINT, act, build_people, report
from civicgrid.core.models import OrgUnit, Role, User
from civicgrid.geo import lookup
from civicgrid.geo.models import Grid, Region
from civicgrid.geo.services import grid_save
from civicgrid.geo.tests.fixtures import square, xy

RUIJIN_POINT = xy(10.5, 0.5)


def build_second_county() -> dict:
    county = Region.objects.create(
        code="360781", name="瑞金市", level=Region.Level.COUNTY, boundary=square(9, -1, 12, 2)
    )
    street = Region.objects.create(code="360781100", name="象湖镇", level=Region.Level.STREET, parent=county)
    community = Region.objects.create(code="360781100001", name="城北社区", level=Region.Level.COMMUNITY, parent=street)
    grid_save(Grid(code="3607811000010001", name="网格0001", community=community, geometry=square(10, 0, 11, 1)))
    return {"county": county}


def report_in_ruijin(made: dict) -> Case:
    """A citizen's report from the public portal, in the second county."""
    return report(made, channel="public", point=RUIJIN_POINT, actor_key=None, reporter_phone="13812345678")


class SeveralCountiesTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_people()
        cls.ruijin = build_second_county()
        chongyi = Region.objects.get(code="360725")
        cls.otto_chongyi = User.objects.create_user(
            "otto_cy", role=Role.OPERATOR, scope=User.Scope.REGION, scope_region=chongyi
        )
        cls.olga_ruijin = User.objects.create_user(
            "olga_rj", role=Role.OPERATOR, scope=User.Scope.REGION, scope_region=cls.ruijin["county"]
        )
        cls.tokens = {
            user.username: Token.objects.create(user=user).key for user in (cls.otto_chongyi, cls.olga_ruijin)
        }

    def setUp(self):
        lookup.invalidate()

    def test_each_county_sees_its_own_cases_only(self):
        chongyi_case = report(self.made, point=EAST_POINT)
        ruijin_case = report_in_ruijin(self.made)
        self.assertEqual(chongyi_case.region_code[:6], "360725")
        self.assertEqual(ruijin_case.region_code[:6], "360781")

        self.assertEqual(list(Case.objects.visible_to(self.otto_chongyi)), [chongyi_case])
        self.assertEqual(list(Case.objects.visible_to(self.olga_ruijin)), [ruijin_case])
        for username, case, other in (
            ("otto_cy", chongyi_case, ruijin_case),
            ("olga_rj", ruijin_case, chongyi_case),
        ):
            auth = {"HTTP_AUTHORIZATION": f"Token {self.tokens[username]}"}
            listed = self.client.get("/api/v1/cases/", **auth).json()
            self.assertEqual([row["id"] for row in listed["results"]], [case.pk], username)
            self.assertEqual(self.client.get(f"/api/v1/cases/{other.pk}/", **auth).status_code, 404, username)

    def test_case_numbers_are_counted_per_county(self):
        first_chongyi = report(self.made, point=EAST_POINT)
        first_ruijin = report_in_ruijin(self.made)
        second_chongyi = report(self.made, point=EAST_POINT)
        self.assertTrue(first_chongyi.number.startswith("360725-"))
        self.assertTrue(first_ruijin.number.startswith("360781-"))
        self.assertEqual(first_ruijin.number[-6:], first_chongyi.number[-6:])
        self.assertNotEqual(second_chongyi.number, first_chongyi.number)

    def test_a_case_is_sent_to_a_unit_of_its_county_only(self):
        reference.clear()
        ruijin_office = OrgUnit.objects.create(
            code="RJ-S01",
            name="象湖镇人民政府",
            kind=OrgUnit.Kind.STREET_OFFICE,
            region=Region.objects.get(code="360781100"),
        )
        chongyi_parks = OrgUnit.objects.create(
            code="CY-D02", name="崇义县园林所", kind=OrgUnit.Kind.DEPARTMENT, region=Region.objects.get(code="360725")
        )
        municipal = self.made["municipal"]  # no region: works in every county
        for case, offered, refused in (
            (report(self.made, point=EAST_POINT), [municipal, chongyi_parks], ruijin_office),
            (report(self.made, point=RUIJIN_POINT), [municipal, ruijin_office], chongyi_parks),
        ):
            act(self.made, case, "file", "otto")
            # The dispatcher's form on the case page lists the county's units and the shared ones.
            self.client.force_login(self.made["dora"])
            page = self.client.get(f"/cases/{case.pk}/").content.decode()
            for unit in offered:
                self.assertIn(f'value="{unit.pk}"', page, unit.name)
            self.assertNotIn(f'value="{refused.pk}"', page, refused.name)
            # A request naming another county's unit (the API, a stale form) is refused.
            with self.assertRaises(InvalidInput):
                act(self.made, case, "dispatch", "dora", unit_id=refused.pk)
            form = self.client.post(
                f"/cases/{case.pk}/act/",
                {
                    "action": "dispatch",
                    "dispatch-version": Case.objects.get(pk=case.pk).version,
                    "dispatch-unit": refused.pk,
                },
            )
            self.assertEqual(Case.objects.get(pk=case.pk).handling_unit_id, None, form.status_code)
            act(self.made, case, "dispatch", "dora", unit_id=offered[-1].pk)
            self.assertEqual(Case.objects.get(pk=case.pk).handling_unit_id, offered[-1].pk)
