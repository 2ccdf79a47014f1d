"""A small case history built by hand through the real services, March 2026.

Every case is reported by Ivy (the east street's inspector, grids G1 and G2) at 09:00 on
Monday 2026-03-02 at the east point (grid G1, community 东一, street 东街道) unless said
otherwise. Working windows are 08:00–12:00 and 14:30–17:30; the test category's limits
(cases.tests.fixtures.LIMITS) are verify, file, dispatch and close 1 working hour, check 2,
handle 4. A handling run dispatched at 09:20 is therefore due at 15:50 the same day.

    A  on time      file 09:10, dispatch 09:20 → 市政所, handled 10:00 (服务), check 10:30, close 10:40;
                    rated 满意 (portal) on 3-03
    B  late         as A, but handled 3-03 09:00 (管理, after the 15:50 deadline), check 09:30, close 09:40;
                    rated 基本满意 (12345) on 3-04
    C  reworked     handled 10:00 (执法), check fails 10:30, handled again 11:00 (执法), check 11:30,
                    close 11:40; rated 不满意 on 3-03 10:00, the shift lead keeps it closed 10:30
    D  extended     extension of 8 working hours asked 10:00, granted 10:10 (due 3-03 16:50); handled
                    3-03 10:00 (no mode given: 服务), check 10:30, close 10:40
    E  deferred     deferral asked 10:00, granted 10:10; still deferred
    F  returned     dispatched 09:20 → 自来水公司, return asked 09:40, granted 09:50; dispatched 10:00
                    → 市政所, handled 11:00, check 11:30, close 11:40
    G  voided       filed 09:10, void asked 09:20, granted 09:30
    H  self-handled reported as self-handled, approved 09:15
    I  missed       a public report in G1 (no reporter account), verified by Ivy 09:30, filed 09:40;
                    waits for dispatch
    K  overdue      dispatched 09:20 → 市政所, signed, never handled (due 15:50)
    L  west         at the west point (G4, 西街道), dispatched → 自来水公司, handled 10:00, check 10:30,
                    close 10:40
    M1, M2          reports at 3-31 23:59 (in March) and 4-01 00:00 (in April), never filed
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from civicgrid.cases.services import case_rate
from civicgrid.cases.tests.fixtures import WEST_POINT, act, build_people, photo, report

TZ = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


def build_history() -> dict:
    made = build_people()
    municipal, water = made["municipal"].pk, made["water"].pk
    cases = {}

    def new(name, **kwargs):
        kwargs.setdefault("created_at", at(2, 9))
        cases[name] = report(made, **kwargs)
        return cases[name]

    def do(name, action, who, when, **kwargs):
        return act(made, cases[name], action, who, when, **kwargs)

    def dispatched(name, unit=municipal, handler="hank"):
        do(name, "file", "otto", at(2, 9, 10))
        do(name, "dispatch", "dora", at(2, 9, 20), unit_id=unit)
        do(name, "sign", handler, at(2, 9, 30))

    def handled(name, when, who="hank", **kwargs):
        do(name, "handled", who, when, note="已处置", photos=[photo()], **kwargs)

    # A: on time.
    new("A")
    dispatched("A")
    handled("A", at(2, 10), resolution_mode="service")
    do("A", "check_pass", "ivy", at(2, 10, 30))
    do("A", "close", "sue", at(2, 10, 40))
    case_rate(case_id=cases["A"].pk, satisfaction="satisfied", source="portal", now=at(3, 9))

    # B: late.
    new("B")
    dispatched("B")
    handled("B", at(3, 9), resolution_mode="management")
    do("B", "check_pass", "ivy", at(3, 9, 30))
    do("B", "close", "sue", at(3, 9, 40))
    case_rate(case_id=cases["B"].pk, satisfaction="basically", source="hotline", now=at(4, 9))

    # C: reworked once, rated 不满意, kept closed.
    new("C")
    dispatched("C")
    handled("C", at(2, 10), resolution_mode="enforcement")
    do("C", "check_fail", "ivy", at(2, 10, 30), note="未修复")
    handled("C", at(2, 11), resolution_mode="enforcement")
    do("C", "check_pass", "ivy", at(2, 11, 30))
    do("C", "close", "sue", at(2, 11, 40))
    case_rate(case_id=cases["C"].pk, satisfaction="dissatisfied", source="portal", now=at(3, 10))
    do("C", "keep_closed", "sue", at(3, 10, 30), note="已按标准修复，答复反映人")

    # D: extended, then handled within the new deadline.
    new("D")
    dispatched("D")
    do("D", "request_extension", "hank", at(2, 10), note="需采购材料", amount="8")
    do("D", "approve_extension", "sue", at(2, 10, 10))
    handled("D", at(3, 10))
    do("D", "check_pass", "ivy", at(3, 10, 30))
    do("D", "close", "sue", at(3, 10, 40))

    # E: deferred and still deferred.
    new("E")
    dispatched("E")
    do("E", "request_deferral", "hank", at(2, 10), note="雨季无法施工")
    do("E", "approve_deferral", "sue", at(2, 10, 10))

    # F: sent to the wrong unit, returned, sent to the right one.
    new("F")
    dispatched("F", unit=water, handler="hugo")
    do("F", "request_return", "hugo", at(2, 9, 40), note="非本单位职责")
    do("F", "approve_return", "dora", at(2, 9, 50))
    do("F", "dispatch", "dora", at(2, 10), unit_id=municipal)
    do("F", "sign", "hank", at(2, 10, 5))
    handled("F", at(2, 11))
    do("F", "check_pass", "ivy", at(2, 11, 30))
    do("F", "close", "sue", at(2, 11, 40))

    # G: voided after filing.
    new("G")
    do("G", "file", "otto", at(2, 9, 10))
    do("G", "request_void", "otto", at(2, 9, 20), note="重复上报")
    do("G", "approve_void", "sue", at(2, 9, 30))

    # H: fixed on the spot by Ivy.
    new("H", self_handled=True)
    do("H", "approve_self_handled", "otto", at(2, 9, 15))

    # I: a citizen's report in Ivy's grid, verified and filed.
    new("I", channel="public", actor_key=None, reporter_phone="13812345678")
    do("I", "verify_confirm", "ivy", at(2, 9, 30))
    do("I", "file", "otto", at(2, 9, 40))

    # K: dispatched and left.
    new("K")
    dispatched("K")

    # L: the west street, handled by the water company.
    new("L", point=WEST_POINT)
    dispatched("L", unit=water, handler="hugo")
    handled("L", at(2, 10), who="hugo", resolution_mode="service")
    do("L", "check_pass", "ivy", at(2, 10, 30))
    do("L", "close", "sue", at(2, 10, 40))

    # M1, M2: the period's edges.
    new("M1", created_at=at(31, 23, 59))
    new("M2", created_at=at(1, 0, 0, month=4))

    made["cases"] = cases
    return made
