from django.test import TestCase

from civicgrid.core.models import OrgUnit, Role, User
from civicgrid.geo.models import Region


class RegionScopeTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.county = Region.objects.create(code="360725", name="崇义县", level=Region.Level.COUNTY)
        cls.east = Region.objects.create(code="360725100", name="东街道", level=Region.Level.STREET, parent=cls.county)
        cls.west = Region.objects.create(code="360725101", name="西街道", level=Region.Level.STREET, parent=cls.county)
        cls.east_c = Region.objects.create(
            code="360725100001", name="东一社区", level=Region.Level.COMMUNITY, parent=cls.east
        )
        cls.west_c = Region.objects.create(
            code="360725101001", name="西一社区", level=Region.Level.COMMUNITY, parent=cls.west
        )
        east_office = OrgUnit.objects.create(
            code="S01", name="东街道办", kind=OrgUnit.Kind.STREET_OFFICE, region=cls.east
        )
        department = OrgUnit.objects.create(code="D01", name="市政所", kind=OrgUnit.Kind.DEPARTMENT)
        # Carol sees the whole county; Eve is scoped to the east street by region;
        # Sam works in the east street office with a unit scope; Dan is in a county-wide department.
        cls.carol = User.objects.create_user("carol", role=Role.LEADER, scope=User.Scope.ALL)
        cls.eve = User.objects.create_user("eve", role=Role.INSPECTOR, scope=User.Scope.REGION, scope_region=cls.east)
        cls.sam = User.objects.create_user("sam", role=Role.HANDLER, scope=User.Scope.UNIT, org_unit=east_office)
        cls.dan = User.objects.create_user("dan", role=Role.HANDLER, scope=User.Scope.UNIT, org_unit=department)

    def codes(self, user):
        return set(Region.objects.visible_to(user).values_list("code", flat=True))

    def test_it_shows_everything_to_a_county_wide_user(self):
        self.assertEqual(self.codes(self.carol), {"360725", "360725100", "360725101", "360725100001", "360725101001"})

    def test_it_limits_a_region_scope_to_its_street_and_the_names_above(self):
        self.assertEqual(self.codes(self.eve), {"360725", "360725100", "360725100001"})

    def test_it_limits_a_street_office_to_its_street(self):
        self.assertNotIn("360725101001", self.codes(self.sam))
        self.assertIn("360725100001", self.codes(self.sam))

    def test_it_does_not_limit_a_county_wide_department_by_region(self):
        self.assertIn("360725101001", self.codes(self.dan))

    def test_it_shows_nothing_to_a_misconfigured_region_scope(self):
        broken = User.objects.create_user("broken", scope=User.Scope.REGION)
        self.assertEqual(self.codes(broken), set())

    def test_it_requires_a_region_for_a_region_scope(self):
        from django.core.exceptions import ValidationError

        user = User(username="x", scope=User.Scope.REGION)
        with self.assertRaises(ValidationError):
            user.clean()
