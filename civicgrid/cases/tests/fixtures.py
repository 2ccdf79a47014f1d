"""Personas and a category with known limits on the geo tests' hand-built county.

Ivy is the east street's inspector (she patrols G1 and G2); Otto the operator, Sue the shift
lead and Dora the dispatcher work in the centers and see the whole county; Hank handles for
the municipal department; Hugo handles for the water company (another unit); Wes is a
street-office operator scoped to the west street; Lea is a leader.
"""

from __future__ import annotations

import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from civicgrid.cases.services import ActInput, ReportInput, case_act, case_report
from civicgrid.catalog.models import Category, Kind, Stage, StageTimeLimit, TimeUnit
from civicgrid.core.models import OrgUnit, Role, User
from civicgrid.geo.models import Region
from civicgrid.geo.tests.fixtures import build_county, xy

# A point inside G1 (east street, community 东一).
EAST_POINT = xy(0.5, 0.5)
# A point inside G4 (west street).
WEST_POINT = xy(1.5, 1.5)

LIMITS = {
    Stage.VERIFY: (Decimal("1"), TimeUnit.WORKING_HOURS),
    Stage.FILE: (Decimal("1"), TimeUnit.WORKING_HOURS),
    Stage.DISPATCH: (Decimal("1"), TimeUnit.WORKING_HOURS),
    Stage.HANDLE: (Decimal("4"), TimeUnit.WORKING_HOURS),
    Stage.CHECK: (Decimal("2"), TimeUnit.WORKING_HOURS),
    Stage.CLOSE: (Decimal("1"), TimeUnit.WORKING_HOURS),
}


def build_people() -> dict:
    made = build_county()
    center = OrgUnit.objects.create(code="C01", name="监督中心", kind=OrgUnit.Kind.SUPERVISION_CENTER)
    command = OrgUnit.objects.create(code="C02", name="指挥中心", kind=OrgUnit.Kind.COMMAND_CENTER)
    made["municipal"] = OrgUnit.objects.create(code="D01", name="市政所", kind=OrgUnit.Kind.DEPARTMENT)
    made["water"] = OrgUnit.objects.create(code="U01", name="自来水公司", kind=OrgUnit.Kind.UTILITY)
    west = Region.objects.get(code="360725101")
    made["otto"] = User.objects.create_user("otto", role=Role.OPERATOR, org_unit=center)
    made["sue"] = User.objects.create_user("sue", role=Role.SHIFT_LEAD, org_unit=center)
    made["dora"] = User.objects.create_user("dora", role=Role.DISPATCHER, org_unit=command)
    made["hank"] = User.objects.create_user(
        "hank", role=Role.HANDLER, org_unit=made["municipal"], scope=User.Scope.UNIT
    )
    made["hugo"] = User.objects.create_user("hugo", role=Role.HANDLER, org_unit=made["water"], scope=User.Scope.UNIT)
    made["wes"] = User.objects.create_user("wes", role=Role.OPERATOR, scope=User.Scope.REGION, scope_region=west)
    made["lea"] = User.objects.create_user("lea", role=Role.LEADER)
    made["category"] = Category.objects.create(key="local:test-road", kind=Kind.EVENT, name="道路破损")
    for stage, (amount, unit) in LIMITS.items():
        StageTimeLimit.objects.create(category=made["category"], stage=stage, amount=amount, unit=unit, confirmed=True)
    return made


def report(made: dict, *, channel: str = "inspector", point=EAST_POINT, actor_key: str = "ivy", **kwargs):
    actor = made[actor_key] if actor_key else None
    data = ReportInput(
        channel=channel,
        category_id=made["category"].pk,
        lon=point[0],
        lat=point[1],
        description=kwargs.pop("description", "路面坑洼"),
        **kwargs,
    )
    return case_report(data=data, actor=actor)


def act(made: dict, case, action: str, who: str, when=None, **kwargs):
    """One action on a case by one of the personas, at the version the case has now."""
    case.refresh_from_db()
    return case_act(
        case_id=case.pk,
        data=ActInput(action=action, version=case.version, **kwargs),
        actor=made[who],
        now=when,
    )


def photo(name: str = "after.jpg", colour: str = "green") -> SimpleUploadedFile:
    """A small real JPEG, as a phone would upload it."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")
