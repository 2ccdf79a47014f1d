"""A public case with a reporter's private link, on the cases fixtures' county and personas.

The staff get real names and phones here, so that tests can check none of them reaches a
public page; the reporter has a name and phone too (also never shown).
"""

from __future__ import annotations

from civicgrid.cases.tests.fixtures import act, photo, report
from civicgrid.core.models import User
from civicgrid.portal.models import Tracker

STAFF = {
    "ivy": ("李监督", "13800000005"),
    "otto": ("陈丽娟", "13800000001"),
    "sue": ("王海军", "13800000002"),
    "dora": ("张敏华", "13800000003"),
    "hank": ("黄志强", "13800000004"),
    "lea": ("周领导", "13800000006"),
}
REPORTER_NAME = "赵小明"
REPORTER_PHONE = "13712345678"


def name_staff(made: dict) -> None:
    for key, (name, phone) in STAFF.items():
        User.objects.filter(pk=made[key].pk).update(display_name=name, phone=phone)
        made[key].refresh_from_db()


def public_report(made: dict, **kwargs):
    """A citizen's report from the portal (no staff actor), with one before-photo."""
    kwargs.setdefault("photos", [photo("before.jpg", "red")])
    return report(
        made,
        channel="public",
        actor_key=None,
        reporter_name=REPORTER_NAME,
        reporter_phone=REPORTER_PHONE,
        description=kwargs.pop("description", "小区门口路面坑洼，我家老人摔了一跤，电话 13712345678"),
        **kwargs,
    )


def reporter_link(case, kind: str = Tracker.Kind.REPORTER) -> Tracker:
    return Tracker.objects.create(case=case, kind=kind, name=REPORTER_NAME, phone=REPORTER_PHONE)


def to_closed(made: dict, case):
    """Verified, filed, dispatched to the municipal department, handled with a photo, checked, closed."""
    act(made, case, "verify_confirm", "ivy")
    act(made, case, "file", "otto")
    act(made, case, "dispatch", "dora", unit_id=made["municipal"].pk)
    act(made, case, "sign", "hank")
    act(made, case, "handled", "hank", photos=[photo("after.jpg", "green")], note="已由黄志强修补完毕")
    act(made, case, "check_pass", "ivy")
    return act(made, case, "close", "sue")


def to_closed_from_processing(made: dict, case):
    """A case the unit is handling: handled with a photo, checked, closed."""
    act(made, case, "handled", "hank", photos=[photo("after.jpg", "green")])
    act(made, case, "check_pass", "ivy")
    return act(made, case, "close", "sue")
