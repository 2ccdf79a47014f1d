"""A year of simulated case history for the demo county, written fast and exactly as the services would.

`history_build(cases=25_000, seed=...)` simulates cases reported in the demo county from
2025-12-01 to now and inserts them in batches, in one transaction. Each case follows
a plan drawn from a seeded random generator (channel, category, grid, and which branches it
takes: verification, rejection, voiding, merging, self-handling, returns, extensions,
deferrals, rework, late handling, reminders and supervision), and is played action by action
through `CaseSimulation`, which applies the transition table (`workflow.transition_for`) and
moves the stage clocks exactly like `services.case_report` and `services.case_act` do — same
Case fields, CaseStage rows (deadlines from the working calendar and the catalogue limits; no
deadline where the category has no limit), CaseEvent rows, Attachment rows for the photos,
numbers from CaseNumberSequence — but in memory, so that 25,000 cases take seconds instead of
the half hour the services need.
A test plays one scripted case both ways and compares every row.

Cases whose next action would fall after `now` stop there: recent cases are open, as in a
live system. A small set of recent cases is steered to stop in given statuses, so that every
demo user finds work in each of their queues (待核实 and 待核查 for `inspector`, 待签收 and
待处置 for the handler's unit 市政设施管理所, overdue and supervised cases among them), and a
few finished cases are steered through the rarer branches, so that every action occurs even
in a small history.

Handling units other than 市政设施管理所 have no demo login; the history creates one handler
account per unit it dispatches to (`handler_<unit code>`, password `demo-handler_<unit code>`),
because every action is done by a user of the unit, as the service requires.

Photos are simulated where the services store them: a before-photo with every report by an
inspector (self-handled ones included), an after-photo with every 处置反馈 (the table requires
one) and a photo with every failed check (optional in the form; case_act stores it as a
before-photo), each an Attachment row on its event, uploaded by the event's actor, created at
the event's time. The rows do not get a file each: they point at a pool of 24 drawn pictures
(civicgrid/cases/demo_photos.py: eight scene themes chosen by category, each before, after and
at a failed check), stored once in MEDIA_ROOT under demo/history-photos/ and shared by all
cases; nothing in CivicGrid deletes a file when its row goes, so deleting a case keeps them.
`history_build(photos=False)` writes no Attachment rows. The audit log is not simulated.
"""

from __future__ import annotations

import bisect
import heapq
import json
import math
import operator
import random
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Count, DateTimeField, JSONField, Max, Q

from civicgrid.cases.models import (
    CHANNELS_NEEDING_VERIFICATION,
    Attachment,
    Case,
    CaseEvent,
    CaseNumberSequence,
    CaseStage,
    Channel,
    Rating,
    ResolutionMode,
    Satisfaction,
)
from civicgrid.cases.services import WARN_SHARE, _copy_to_case
from civicgrid.cases.workflow import TERMINAL, TRANSITIONS, Action, Requirement, Status, transition_for
from civicgrid.catalog.models import Category, Stage, StageTimeLimit
from civicgrid.core.models import OrgUnit, Role, User
from civicgrid.geo.models import Grid

A, S = Action, Status
DEFAULT_CASES = 25_000
DEFAULT_SEED = 2021
HISTORY_START = date(2025, 12, 1)
CHUNK = 5_000

# Channel shares (监督员上报 about 60 %, 公众 and 热线 about 15 % each).
CHANNEL_WEIGHTS = {
    Channel.INSPECTOR: 60,
    Channel.PUBLIC: 15,
    Channel.HOTLINE: 15,
    Channel.VIDEO: 5,
    Channel.OPERATOR: 2,
    Channel.LEADER: 1.5,
    Channel.MEDIA: 1.5,
}

# The category mix: common urban problems first. Names missing from the catalogue are skipped;
# every other active category shares TAIL_WEIGHT.
CATEGORY_WEIGHTS = {
    "暴露垃圾": 13,
    "道路不洁": 10,
    "占道经营": 8,
    "乱堆杂物": 7,
    "非法小广告": 6,
    "店外经营": 5,
    "机动车乱停放": 5,
    "非机动车乱停放": 3,
    "积存垃圾渣土": 4,
    "垃圾站（箱）满溢": 3,
    "道路破损": 3,
    "路灯": 3,
    "污水井盖": 2.5,
    "雨水井盖": 2.5,
    "雨水箅子": 1.5,
    "供水井盖": 1.2,
    "通信井盖": 1,
    "电力井盖": 0.8,
    "不明井盖": 0.6,
    "燃气井盖": 0.3,
    "私搭乱建": 2,
    "绿地脏乱": 2.5,
    "绿地养护": 1,
    "道路积水": 1.2,
    "水域不洁": 0.4,
    "违规户外广告": 1.5,
    "违规牌匾标识": 1,
    "沿街晾挂": 1.5,
    "无照经营游商": 1.5,
    "行道树": 1,
    "废弃家具设备": 1.2,
    "下水道堵塞": 1,
    "工地扬尘": 0.8,
    "施工占道": 0.6,
    "噪声扰民": 0.8,
    "油烟污染": 0.6,
    "露天烧烤": 0.8,
    "道路遗撒（洒）": 0.8,
    "垃圾箱": 1,
    "公共厕所": 0.6,
    "交通护栏": 0.5,
    "交通标志牌及标线": 0.4,
    "废弃车辆": 0.5,
    "动物尸体": 0.3,
    "架空线缆脱落": 0.5,
}
TAIL_WEIGHT = 6
# Minor problems an inspector may fix on the spot (自处理).
MINOR_CATEGORIES = {
    "暴露垃圾",
    "道路不洁",
    "非法小广告",
    "乱堆杂物",
    "沿街晾挂",
    "废弃家具设备",
    "非机动车乱停放",
    "垃圾箱",
}
# Units of the sanitation department's contractors: part of its street cleaning goes to them.
SANITATION_UNIT, CONTRACTORS = "CG11", ("HW01", "HW02")
HANDLER_UNIT = "CG12"  # the demo login `handler` works here

# Branch probabilities (per case unless said otherwise).
P_SELF_HANDLED = 0.10  # of inspector reports of minor categories
P_REFUSE_SELF = 0.08
P_VERIFY_DENY = 0.07  # of reports that need verification
P_DUPLICATE = 0.06  # of reports from channels other than an inspector
P_REJECT = 0.025
P_VOID = 0.012
P_VOID_REFUSED = 0.25
P_URGENT = 0.015
P_WRONG_UNIT = 0.035  # dispatched to the wrong unit, which asks to return it
P_RETURN_REFUSED = 0.15
P_EXTENSION = 0.05
P_EXTENSION_REFUSED = 0.2
P_DEFERRAL = 0.015
P_DEFERRAL_REFUSED = 0.2
P_REWORK = 0.055  # a check fails once; P_REWORK2 of all cases fail twice
P_REWORK2 = 0.005
P_LATE = 0.16  # handling of a category with a time limit ends after its deadline
P_REMIND_LATE, P_SUPERVISE_LATE = 0.5, 0.3
MODE_WEIGHTS = {ResolutionMode.SERVICE: 70, ResolutionMode.MANAGEMENT: 20, ResolutionMode.ENFORCEMENT: 10}
# Ratings of closed cases: the public rates on the portal, 12345 callers at the hotline's 回访.
RATED_CHANNELS = {Channel.PUBLIC: Rating.Source.PORTAL, Channel.HOTLINE: Rating.Source.HOTLINE}
P_RATED = {Channel.PUBLIC: 0.55, Channel.HOTLINE: 0.9}
SATISFACTION_WEIGHTS = {Satisfaction.SATISFIED: 82, Satisfaction.BASICALLY: 13, Satisfaction.DISSATISFIED: 5}
P_REOPEN = 0.6  # of 不满意 reviews: back to the unit; else kept closed with a reply
COMMENTS = {
    Satisfaction.SATISFIED: ["处理很及时，谢谢", "已经修好了", ""],
    Satisfaction.BASICALLY: ["处理了，但时间有点长", ""],
    Satisfaction.DISSATISFIED: ["问题没有彻底解决", "过几天又出现了", "现场仍有残留"],
}

REASONS = {
    A.VERIFY_DENY: ["现场未发现该问题", "问题已自行消失", "位置描述有误，现场无此问题"],
    A.REJECT: ["不属于城管受理范围", "核实不属实", "信息不全，无法定位"],
    A.REQUEST_VOID: ["重复上报", "误报，录入错误"],
    A.REFUSE_VOID: ["经核实不属于重复案件，请立案"],
    A.REQUEST_RETURN: ["不属于本单位职责范围", "权属不清，建议改派"],
    A.REFUSE_RETURN: ["该问题属于贵单位职责，请按时处置"],
    A.REQUEST_EXTENSION: ["需协调多个部门，申请延期", "材料采购需要时间", "天气原因无法施工"],
    A.REFUSE_EXTENSION: ["问题简单，请按原时限处置"],
    A.REQUEST_DEFERRAL: ["需纳入年度维修计划", "资金未落实，申请挂账", "雨季无法施工，申请缓办"],
    A.REFUSE_DEFERRAL: ["不符合缓办条件，请继续处置"],
    A.CHECK_FAIL: ["现场问题未彻底解决", "处置不到位，仍有残留"],
    A.REFUSE_SELF_HANDLED: ["处置后照片不清晰，请立案处置"],
    A.SUPERVISE: ["超期未处置，请尽快办理", "群众反映强烈，请限期解决"],
    A.KEEP_CLOSED: ["经复核，问题已按标准处置完毕，感谢您的监督", "该问题已处理，后续由责任单位加强日常巡查"],
}
DETAILS = [
    "影响市容环境，请尽快处理",
    "群众多次反映",
    "位于人行道旁，影响通行",
    "已持续数日",
    "靠近学校门口",
    "沿街商铺附近",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何罗钟曾谢邱赖温"
GIVEN = "建华 秀兰 志强 丽 海燕 国庆 小红 明 芳 伟 静 军 磊 洋 艳 勇 敏 杰 娟 涛".split()
MEDIA = ["赣南日报", "崇义发布", "赣州晚报"]


class _Stop(Exception):
    """The next action would happen after `now`, or the case reached the status it was steered to."""


#
# The county as the generator needs it, loaded once
#


@dataclass
class _Grid:
    id: int
    code: str
    label: str  # default address: street, community and grid names
    community_id: int
    street_id: int
    region_code: str
    region_class: str
    inspector: User | None
    points: list[tuple[float, float]] = field(default_factory=list)


@dataclass
class _Category:
    id: int
    name: str
    default_unit: str | None  # unit code
    limited: bool


class World:
    """Grids, categories, limits, users and the calendar of the demo county, read once."""

    def __init__(self, *, seed: int = DEFAULT_SEED, county: str = ""):
        """`county`: a county code to simulate only that county (its grids, the units of its
        streets and the bureau's own, their staff); by default every grid of the database."""
        from civicgrid.workcalendar.selectors import get_calendar

        self.calendar = get_calendar()
        self.tz = ZoneInfo(settings.TIME_ZONE)
        units = OrgUnit.objects.filter(is_active=True)
        users = User.objects.filter(is_active=True)
        grids = Grid.objects.all()
        if county:
            units = units.filter(Q(region__isnull=True) | Q(region__code__startswith=county))
            users = users.filter(Q(org_unit__isnull=True) | Q(org_unit__in=units))
            grids = grids.filter(region_code__startswith=county)
        self.units = {u.code: u for u in units}
        self.units_by_id = {u.pk: u for u in self.units.values()}
        self.users = {u.username: u for u in users.select_related("org_unit")}
        self.users_by_id = {u.pk: u for u in self.users.values()}
        for username in ("operator", "shift_lead", "dispatcher", "leader"):
            if username not in self.users or self.users[username].role != username:
                raise RuntimeError(f"demo user {username} missing: run manage.py demo first")
        self.street_office = {u.region_id: u.code for u in self.units.values() if u.kind == OrgUnit.Kind.STREET_OFFICE}

        self.limits: dict[tuple[int, str], dict[str, tuple[Decimal, str]]] = {}
        for row in StageTimeLimit.objects.all():
            self.limits.setdefault((row.category_id, row.stage), {})[row.region_class] = (row.amount, row.unit)
        limited = {cat for cat, _stage in self.limits}
        cats = [
            _Category(
                c.pk,
                c.name,
                self.units_by_id[c.default_handling_unit_id].code
                if c.default_handling_unit_id in self.units_by_id
                else None,
                c.pk in limited,
            )
            for c in Category.objects.filter(is_active=True).order_by("pk")
        ]
        if not cats:
            raise RuntimeError("no categories: run manage.py demo first")
        self.categories = {c.name: c for c in cats}
        self.categories_by_id = {c.id: c for c in cats}
        named = [c for c in cats if c.name in CATEGORY_WEIGHTS]
        tail = [c for c in cats if c.name not in CATEGORY_WEIGHTS]
        weights = [CATEGORY_WEIGHTS[c.name] for c in named] + [TAIL_WEIGHT / max(len(tail), 1)] * len(tail)
        self.category_list, self.category_cum = named + tail, _cumulative(weights)

        users_by_id = {u.pk: u for u in self.users.values()}
        self._grid_qs = grids
        grids = grids.select_related("community__parent").prefetch_related("responsibility_grids")
        self.grids: list[_Grid] = []
        for g in grids.order_by("code"):
            rgrids = sorted((r for r in g.responsibility_grids.all() if r.inspector_id), key=lambda r: r.code)
            community, street = g.community, g.community.parent
            self.grids.append(
                _Grid(
                    g.pk,
                    g.code,
                    f"{street.name}{community.name}{g.name or g.code}",
                    community.pk,
                    street.pk,
                    g.region_code,
                    g.region_class,
                    users_by_id.get(rgrids[0].inspector_id) if rgrids else None,
                )
            )
        if not self.grids:
            raise RuntimeError("no grids: run manage.py demo first")
        self._sample_points(seed)
        rng = random.Random(f"{seed}/grids")
        # Hot spots: some grids (markets, schools, the old town) see far more problems.
        class_weight = {"A": 3.0, "B": 2.0, "C": 1.0}
        weights = [class_weight.get(g.region_class, 1.0) * rng.lognormvariate(0, 0.6) for g in self.grids]
        self.grid_cum = _cumulative(weights)
        self.inspector_grids = [g for g in self.grids if g.inspector and g.inspector.username == "inspector"]
        self._windows: dict[date, tuple] = {}

    def _sample_points(self, seed: int) -> None:
        """Random points inside each grid, as the lookup service locates them (edge rule included)."""
        from civicgrid.geo.lookup import get_index

        index = get_index()
        by_code = {g.code: g for g in self.grids}
        gen = np.random.default_rng(seed)
        bounds = [
            (float(g["min_lon"]), float(g["min_lat"]), float(g["max_lon"]), float(g["max_lat"]))
            for g in self._grid_qs.values("min_lon", "min_lat", "max_lon", "max_lat")
        ]
        x0, y0 = min(b[0] for b in bounds), min(b[1] for b in bounds)
        x1, y1 = max(b[2] for b in bounds), max(b[3] for b in bounds)
        lons = np.round(gen.uniform(x0, x1, 200_000), 6)
        lats = np.round(gen.uniform(y0, y1, 200_000), 6)
        codes = index.locate_many(lons, lats)
        for lon, lat, code in zip(lons.tolist(), lats.tolist(), codes.tolist(), strict=True):
            grid = by_code.get(code)
            if grid is not None and len(grid.points) < 400:
                grid.points.append((lon, lat))
        for grid in self.grids:
            if not grid.points:  # a sliver of a grid: its own centre is inside it
                raise RuntimeError(f"no sample point fell in grid {grid.code}")

    def user(self, username: str) -> User:
        return self.users[username]

    def handler(self, unit_code: str) -> User:
        return self.users[self.handler_names[unit_code]]

    def limit(self, category_id: int, stage: str, region_class: str) -> tuple[Decimal, str] | None:
        """As catalog.selectors.time_limit_for: the region class's own row, else the all-regions row."""
        rows = self.limits.get((category_id, stage))
        if not rows:
            return None
        return rows.get(region_class) or rows.get("")

    def office(self, t: datetime, rng: random.Random) -> datetime:
        """t if it falls in working time, else a little after the next working window opens."""
        local = t.astimezone(self.tz)
        minute = local.hour * 60 + local.minute
        day = local.date()
        for offset in range(40):
            d = day + timedelta(days=offset)
            for start, end in self._day_windows(d):
                if offset == 0 and minute >= end:
                    continue
                if offset == 0 and minute >= start:
                    return t
                opening = datetime.combine(d, dtime(), self.tz) + timedelta(minutes=start)
                return opening.astimezone(UTC) + timedelta(seconds=rng.randint(60, 2400))
        return t

    def _day_windows(self, d: date) -> tuple:
        windows = self._windows.get(d)
        if windows is None:
            cal = self.calendar
            windows = self._windows[d] = cal.windows_for(d) if cal.is_working_day(d) else ()
        return windows

    def ensure_handlers(self) -> list[str]:
        """One handler login per unit cases are dispatched to; returns the usernames created."""
        from civicgrid.core.demo import _demo_password_hash

        created = []
        self.handler_names: dict[str, str] = {}
        existing = {}
        for u in sorted(self.users.values(), key=lambda u: u.username):
            if u.role == Role.HANDLER and u.org_unit_id:
                existing.setdefault(u.org_unit.code, u.username)
        for code, unit in sorted(self.units.items()):
            if unit.kind in (OrgUnit.Kind.BUREAU, OrgUnit.Kind.SUPERVISION_CENTER, OrgUnit.Kind.COMMAND_CENTER):
                continue
            if code not in existing:
                username = f"handler_{code.lower()}"
                n = sum(map(ord, code))
                user = User.objects.create(
                    username=username,
                    display_name=SURNAMES[n % len(SURNAMES)] + GIVEN[n % len(GIVEN)],
                    role=Role.HANDLER,
                    org_unit=unit,
                    scope=User.Scope.UNIT,
                    password=_demo_password_hash(username),
                )
                user.org_unit = unit
                self.users[username] = self.users_by_id[user.pk] = user
                existing[code] = username
                created.append(username)
            self.handler_names[code] = existing[code]
        return created


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def _pick(rng: random.Random, items: list, cum: list[float]):
    return items[bisect.bisect_right(cum, rng.random() * cum[-1])]


def _weighted(rng: random.Random, weights: dict):
    keys = list(weights)
    return _pick(rng, keys, _cumulative([weights[k] for k in keys]))


#
# One case, in memory, acted on as the services would
#


class _Row:
    """A row in the making: attributes named as the model's columns (attnames)."""

    def __init__(self, values: dict):
        self.__dict__ = values


_DEFAULTS: dict = {}


def _row(model, **values) -> _Row:
    """Like model(**values), without the cost of a model instance: defaults for what is not given."""
    defaults = _DEFAULTS.get(model)
    if defaults is None:
        defaults = _DEFAULTS[model] = {
            f.attname: f.get_default() for f in model._meta.concrete_fields if not f.primary_key
        }
    return _Row({**defaults, **values})


class CaseSimulation:
    """A case and its stage and event rows, changed as services.case_report and case_act change them."""

    def __init__(self, world: World):
        self.world = world
        self.case: Case | None = None
        self.stages: list[CaseStage] = []
        self.events: list[CaseEvent] = []
        self.open: CaseStage | None = None
        self.last_at: datetime | None = None
        self.last_action: str = ""
        self.duplicate_of: CaseSimulation | None = None
        self.grid: _Grid | None = None
        # Photos as services.attachment_add would store them; "_event" is the event row they
        # belong to, and the writer fills in the ids and which pool file they show.
        self.attachments: list[_Row] = []
        # Ratings as services.case_rate writes them; "_event" is their event row.
        self.ratings: list[_Row] = []

    # services.case_report
    def report(
        self,
        *,
        channel: str,
        category: _Category,
        grid: _Grid,
        lon: float,
        lat: float,
        description: str,
        actor: User | None,
        at: datetime,
        reporter_name: str = "",
        reporter_phone: str = "",
        external_id: str = "",
        self_handled: bool = False,
        urgent: bool = False,
        photos: int = 0,
    ) -> None:
        channel = Channel(channel)
        self.grid = grid
        case = self.case = _row(
            Case,
            channel=channel,
            category_id=category.id,
            description=description.strip(),
            address=grid.label,
            lon=lon,
            lat=lat,
            grid_id=grid.id,
            community_id=grid.community_id,
            street_id=grid.street_id,
            region_code=grid.region_code,
            region_class=grid.region_class,
            reporter_id=actor.pk if actor else None,
            reporter_name=reporter_name.strip()[:50],
            reporter_phone=reporter_phone.strip()[:20],
            external_id=external_id[:64],
            urgent=urgent,
            created_at=at,
        )
        if self_handled:
            case.status, first = Status.SELF_HANDLED, Stage.CLOSE
        elif channel in CHANNELS_NEEDING_VERIFICATION:
            case.status, first = Status.VERIFYING, Stage.VERIFY
            case.assignee_id = grid.inspector.pk if grid.inspector else None
        else:
            case.status, first = Status.PENDING_FILING, Stage.FILE
        self._start(first, at)
        self._event("report", "", actor, at, "", {"channel": channel.value, "self_handled": self_handled})
        self._photos(photos, Attachment.Kind.BEFORE, actor, at)

    # services.case_act
    def act(
        self,
        action: str,
        actor: User,
        at: datetime,
        *,
        note: str = "",
        unit: OrgUnit | None = None,
        amount=None,
        duplicate_of: CaseSimulation | None = None,
        resolution_mode: str = "",
        photos: int = 0,
    ) -> None:
        case = self.case
        row = transition_for(case.status, action, actor.role)  # the generator never breaks the table
        if actor.role == Role.HANDLER and case.handling_unit_id != actor.org_unit_id:
            raise AssertionError(f"{actor} acts for a unit the case is not at")
        note = (note or "").strip()
        data: dict = {}
        if Requirement.REASON in row.requires and not note:
            raise AssertionError(f"{action} needs a reason")
        if Requirement.UNIT in row.requires:
            data["unit"] = {"id": unit.pk, "name": unit.name}
        if Requirement.AMOUNT in row.requires:
            data["amount"] = str(Decimal(str(amount)))
            data["time_unit"] = self.open.time_unit if self.open else ""
        if Requirement.DUPLICATE_OF in row.requires:
            self.duplicate_of = duplicate_of
            data["duplicate_of"] = None  # the original's number, filled in when numbers are given
        if Requirement.AFTER_PHOTO in row.requires and not photos and not self._has_after_photo():
            raise AssertionError(f"{action} needs an after-photo")
        if resolution_mode:
            data["resolution_mode"] = ResolutionMode(resolution_mode).value

        from_status = case.status
        self._apply(row.action, data, at)
        if row.ends is not None:
            self._end(at)
        if row.starts is not None:
            self._start(row.starts, at)
        if row.pauses:
            self._pause(at)
        if row.resumes:
            self._resume(at)
        for counter in row.counts:
            if counter in ("rework", "extension", "return", "deferral", "reopen"):
                setattr(case, f"{counter}_count", getattr(case, f"{counter}_count") + 1)
        if row.back:
            # Back to where the request was made from (its event went from there to here).
            request = next((e for e in reversed(self.events) if e.to_status == case.status), None)
            case.status = Status(request.from_status) if request and request.from_status else row.target
        elif row.target is not None:
            case.status = row.target
        if case.status in TERMINAL:
            self._end(at)
        case.version += 1
        self._event(row.action, from_status, actor, at, note, data)
        self._photos(photos, Attachment.Kind.AFTER if row.action == A.HANDLED else Attachment.Kind.BEFORE, actor, at)

    # services.case_rate
    def rate(self, satisfaction: str, at: datetime, *, comment: str = "", source: str = Rating.Source.PORTAL) -> None:
        case = self.case
        if case.status != S.CLOSED:
            raise AssertionError("only a closed case is rated")
        level = Satisfaction(satisfaction)
        from_status = case.status
        if level == Satisfaction.DISSATISFIED:
            row = TRANSITIONS[A.DISSATISFIED]
            case.status = row.target
            self._start(row.starts, at)
            case.version += 1
            action = row.action
        else:
            action = "rate"
        self._event(action, from_status, None, at, comment.strip(), {"satisfaction": level.value, "source": source})
        self.ratings.append(
            _row(
                Rating,
                source=source,
                satisfaction=level,
                comment=comment.strip(),
                unit_id=case.handling_unit_id,
                created_at=at,
                _event=self.events[-1],
            )
        )

    def _apply(self, action: Action, data: dict, at: datetime) -> None:
        case = self.case
        if action == A.DISPATCH:
            case.handling_unit_id = data["unit"]["id"]
        elif action == A.FILE:
            case.filed_at = at
        elif action in (A.VERIFY_CONFIRM, A.VERIFY_DENY):
            case.verified = action == A.VERIFY_CONFIRM
            case.assignee_id = None
        elif action == A.HANDLED:
            case.assignee_id = self.grid.inspector.pk if self.grid.inspector else None
            case.resolution_mode = data.get("resolution_mode") or case.resolution_mode or ResolutionMode.SERVICE
        elif action in (A.CHECK_PASS, A.CHECK_FAIL):
            case.assignee_id = None
        elif action == A.APPROVE_RETURN:
            case.handling_unit_id = None
        elif action == A.REOPEN:
            case.handling_unit_id = data["unit"]["id"]
            case.closed_at = None
        elif action == A.APPROVE_EXTENSION:
            requested = next(e for e in reversed(self.events) if e.action == A.REQUEST_EXTENSION)
            self._extend(Decimal(requested.data["amount"]))
            data["amount"] = requested.data["amount"]
            data["time_unit"] = requested.data.get("time_unit", "")
        elif action in (A.CLOSE, A.APPROVE_SELF_HANDLED, A.APPROVE_VOID):
            case.closed_at = at
        elif action == A.SUPERVISE:
            case.supervised = True
        elif action == A.REMIND:
            case.remind_count += 1
        elif action == A.MARK_URGENT:
            case.urgent = True
        if action in (A.REJECT, A.MERGE):
            case.closed_at = at

    def _event(self, action: str, from_status: str, actor: User | None, at: datetime, note: str, data: dict) -> None:
        self.events.append(
            _row(
                CaseEvent,
                action=action,
                from_status=from_status,
                to_status=self.case.status,
                actor_id=actor.pk if actor else None,
                actor_role=actor.role if actor else "",
                unit_id=actor.org_unit_id if actor else None,
                at=at,
                note=note,
                data=data,
            )
        )
        self.last_at, self.last_action = at, action

    def _photos(self, n: int, kind: str, actor: User | None, at: datetime) -> None:
        for _k in range(n):
            self.attachments.append(
                _row(
                    Attachment,
                    kind=kind,
                    uploaded_by_id=actor.pk if actor else None,
                    created_at=at,
                    _event=self.events[-1],
                )
            )

    def _has_after_photo(self) -> bool:
        """services._has_after_photo: an after-photo since the running stage started."""
        since = self.open.started_at if self.open else self.case.created_at
        return any(a.kind == Attachment.Kind.AFTER and a.created_at >= since for a in self.attachments)

    # Stage clocks: services._start_stage, _end_stage, _pause, _resume, _extend, _compute.
    def _compute(self, stage: CaseStage) -> None:
        if stage.amount is None:
            stage.deadline = stage.warn_at = None
            return
        cal = self.world.calendar
        pauses = [(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in stage.pauses]
        result = cal.add(stage.started_at, float(stage.amount), stage.time_unit, pauses)
        warn = cal.add(stage.started_at, float(stage.amount * WARN_SHARE), stage.time_unit, pauses)
        stage.deadline, stage.warn_at = result.deadline, warn.deadline
        stage.calendar_complete = result.calendar_complete

    def _start(self, name: str, at: datetime) -> None:
        case = self.case
        limit = self.world.limit(case.category_id, name, case.region_class)
        stage = _row(
            CaseStage,
            stage=name,
            unit_id=case.handling_unit_id if name == Stage.HANDLE else None,
            started_at=at,
            amount=limit[0] if limit else None,
            time_unit=limit[1] if limit else "",
            pauses=[],
        )
        self._compute(stage)
        self.stages.append(stage)
        self.open = stage
        _copy_to_case(case, stage)

    def _end(self, at: datetime) -> None:
        stage = self.open
        if stage is None:
            return
        stage.ended_at = at
        stage.on_time = None if stage.deadline is None else at <= stage.deadline
        self.open = None
        _copy_to_case(self.case, None)

    def _pause(self, at: datetime) -> None:
        if self.open is None:
            return
        self.open.paused_since = at
        _copy_to_case(self.case, self.open)

    def _resume(self, at: datetime) -> None:
        stage = self.open
        if stage is None or stage.paused_since is None:
            return
        stage.pauses = [*stage.pauses, [stage.paused_since.isoformat(), at.isoformat()]]
        stage.paused_since = None
        self._compute(stage)
        _copy_to_case(self.case, stage)

    def _extend(self, amount: Decimal) -> None:
        stage = self.open
        if stage is None or stage.amount is None:
            return
        stage.amount += amount
        self._compute(stage)
        _copy_to_case(self.case, stage)


#
# Plans: which branches a case takes
#


def _open_at(sim: CaseSimulation, at: datetime) -> bool:
    """Whether the simulated case was still open at `at` (its whole timeline is known)."""
    return sim.case.closed_at is None or sim.case.closed_at > at


@dataclass
class _Plan:
    channel: str
    category: _Category
    grid: _Grid
    point: tuple[float, float]
    created_at: datetime
    self_handled: bool = False
    refuse_self: bool = False
    verify_deny: bool = False
    duplicate_of: CaseSimulation | None = None
    reject: bool = False
    void: str = ""  # "filing" or "dispatch"
    void_refused: bool = False
    urgent: bool = False
    unit: str = ""
    wrong_unit: str = ""
    return_before_sign: bool = False
    return_refused: bool = False
    extension: bool = False
    extension_refused: bool = False
    deferral: bool = False
    deferral_refused: bool = False
    deferral_days: float = 10
    reworks: int = 0
    late: bool = False
    remind: bool = False
    supervise: bool = False
    mode: str = ResolutionMode.SERVICE
    rating: str = ""  # the first rating after closing ("" = drawn, "none" = not rated)
    review: str = ""  # after a 不满意: "reopen" or "keep" ("" = drawn)
    # Steering (recent cases kept open in a given status).
    target: str = ""
    stop_after: str = ""


# Recent cases steered to stop in a status: (status, stop after this action, plan overrides, count).
LIVE = [
    (S.VERIFYING, "", {"channel": Channel.PUBLIC, "grid": "inspector"}, 4),
    (S.PENDING_FILING, "", {"channel": Channel.INSPECTOR}, 3),
    (S.SELF_HANDLED, "", {"channel": Channel.INSPECTOR, "self_handled": True, "category": "暴露垃圾"}, 2),
    (S.FILED, "", {}, 4),
    (S.DISPATCHED, "", {"unit": HANDLER_UNIT}, 4),
    (S.PROCESSING, "", {"unit": HANDLER_UNIT, "category": "道路破损"}, 4),
    (S.EXTENSION_REQUESTED, "", {"unit": HANDLER_UNIT, "extension": True}, 2),
    (S.DEFERRAL_REQUESTED, "", {"unit": HANDLER_UNIT, "deferral": True}, 2),
    (S.DEFERRED, "", {"unit": HANDLER_UNIT, "deferral": True, "deferral_days": 60}, 1),
    (S.VOID_REQUESTED, "", {"void": "filing"}, 2),
    (S.RETURN_REQUESTED, "", {"wrong_unit": "WB05"}, 3),
    (S.CHECKING, "", {"grid": "inspector"}, 4),
    (S.PENDING_CLOSE, "", {}, 4),
    (S.PROCESSING, A.SIGN, {"unit": HANDLER_UNIT, "category": "污水井盖", "late": True}, 3),
    (S.PROCESSING, A.SUPERVISE, {"unit": HANDLER_UNIT, "category": "雨水井盖", "late": True, "supervise": True}, 3),
    (S.REVIEW, "", {"channel": Channel.PUBLIC, "rating": Satisfaction.DISSATISFIED}, 2),
]
# Finished cases steered through the rarer branches, so that every action occurs.
SHOWCASE = [
    {"void": "filing", "void_refused": True},
    {"void": "dispatch"},
    {"extension": True, "extension_refused": True, "category": "暴露垃圾"},
    {"extension": True, "category": "积存垃圾渣土"},
    {"deferral": True, "deferral_refused": True},
    {"deferral": True, "deferral_days": 12},
    {"wrong_unit": "WB05", "return_refused": True},
    {"wrong_unit": "WB03"},
    {"channel": Channel.INSPECTOR, "self_handled": True, "refuse_self": True, "category": "道路不洁"},
    {"channel": Channel.INSPECTOR, "self_handled": True, "category": "暴露垃圾"},
    {"channel": Channel.HOTLINE, "verify_deny": True},
    {"reject": True},
    {"reworks": 2, "category": "道路不洁"},
    {"late": True, "remind": True, "supervise": True, "urgent": True, "category": "暴露垃圾"},
    {"channel": Channel.PUBLIC, "rating": Satisfaction.DISSATISFIED, "review": "reopen"},
    {"channel": Channel.HOTLINE, "rating": Satisfaction.DISSATISFIED, "review": "keep"},
]


class HistoryGenerator:
    """Plans and plays cases; `cases(n)` yields them in report order, in chunks."""

    def __init__(
        self, world: World, *, seed: int = DEFAULT_SEED, start: date = HISTORY_START, now: datetime | None = None
    ):
        self.world, self.seed = world, seed
        self.now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        self.start = datetime.combine(start, dtime(), world.tz).astimezone(UTC)
        if self.start >= self.now - timedelta(days=2):
            raise ValueError("the history needs at least two days between its start and now")
        self._recent: deque[CaseSimulation] = deque()

    # Timing

    def _times(self, n: int, rng: random.Random) -> list[tuple[datetime, str]]:
        """n report instants over the period with their channels, sorted."""
        w = self.world
        days = (self.now - self.start).days + 1
        first = self.start.astimezone(w.tz).date()
        weights = []
        for k in range(days):
            d = first + timedelta(days=k)
            season = 1 + 0.25 * math.sin(2 * math.pi * (d.timetuple().tm_yday - 100) / 365)  # summer peak
            weights.append(season * (1.0 if w.calendar.is_working_day(d) else 0.55))
        cum = _cumulative(weights)
        channels = list(CHANNEL_WEIGHTS)
        ch_cum = _cumulative(list(CHANNEL_WEIGHTS.values()))
        out = []
        while len(out) < n:
            d = first + timedelta(days=bisect.bisect_right(cum, rng.random() * cum[-1]))
            channel = _pick(rng, channels, ch_cum)
            if channel == Channel.INSPECTOR or channel in (Channel.LEADER, Channel.MEDIA, Channel.OPERATOR):
                # Patrols and desks work office hours, some weekend patrols.
                minute = rng.choice([rng.uniform(480, 720), rng.uniform(870, 1050)])
            elif channel == Channel.VIDEO:
                minute = rng.uniform(360, 1380)
            else:
                minute = min(max(rng.gauss(780, 200), 420), 1320)
            at = (datetime.combine(d, dtime(), w.tz) + timedelta(seconds=int(minute * 60))).astimezone(UTC)
            if self.start <= at < self.now - timedelta(minutes=5):
                out.append((at, channel))
        out.sort()
        return out

    def _after(self, t: datetime, lo: float, hi: float, rng: random.Random, office: bool = True) -> datetime:
        """Some minutes (log-uniform between lo and hi) after t, moved into working time."""
        t = t + timedelta(seconds=int(60 * math.exp(rng.uniform(math.log(lo), math.log(hi)))))
        return self.world.office(t, rng) if office else t

    # Plans

    def _plan(self, at: datetime, channel: str, rng: random.Random, overrides: dict | None = None) -> _Plan:
        w = self.world
        o = overrides or {}
        channel = o.get("channel", channel)
        category = w.categories[o["category"]] if "category" in o else _pick(rng, w.category_list, w.category_cum)
        if o.get("grid") == "inspector" and w.inspector_grids:
            grid = rng.choice(w.inspector_grids)
        else:
            grid = _pick(rng, w.grids, w.grid_cum)
        p = _Plan(channel, category, grid, rng.choice(grid.points), at)
        if channel in CHANNELS_NEEDING_VERIFICATION and not o and rng.random() < P_DUPLICATE:
            original = self._original(at, rng)
            if original is not None:
                p.duplicate_of = original
                p.category = w.categories_by_id[original.case.category_id]
                p.grid, p.point = original.grid, (original.case.lon, original.case.lat)
        p.self_handled = (
            channel == Channel.INSPECTOR and p.category.name in MINOR_CATEGORIES and rng.random() < P_SELF_HANDLED
        )
        p.refuse_self = rng.random() < P_REFUSE_SELF
        p.verify_deny = channel in CHANNELS_NEEDING_VERIFICATION and rng.random() < P_VERIFY_DENY
        p.reject = p.verify_deny and rng.random() < 0.9 or rng.random() < P_REJECT
        if rng.random() < P_VOID:
            p.void = "filing" if rng.random() < 0.6 else "dispatch"
        p.void_refused = rng.random() < P_VOID_REFUSED
        p.urgent = rng.random() < P_URGENT
        p.unit = self._unit_for(p, rng)
        if rng.random() < P_WRONG_UNIT:
            others = sorted(code for code in w.handler_names if code != p.unit)
            p.wrong_unit = rng.choice(others)
        p.return_before_sign = rng.random() < 0.5
        p.return_refused = rng.random() < P_RETURN_REFUSED
        p.extension = rng.random() < P_EXTENSION
        p.extension_refused = rng.random() < P_EXTENSION_REFUSED
        p.deferral = rng.random() < P_DEFERRAL
        p.deferral_refused = rng.random() < P_DEFERRAL_REFUSED
        p.deferral_days = rng.uniform(5, 60)
        r = rng.random()
        p.reworks = 2 if r < P_REWORK2 else 1 if r < P_REWORK else 0
        p.late = rng.random() < P_LATE
        p.remind = rng.random() < P_REMIND_LATE
        p.supervise = rng.random() < P_SUPERVISE_LATE
        p.mode = _weighted(rng, MODE_WEIGHTS)
        for key, value in o.items():
            if key not in ("channel", "category", "grid"):
                setattr(p, key, value)
        if "category" in o and "unit" not in o:
            p.unit = self._unit_for(p, rng)
        if p.wrong_unit == p.unit:
            p.wrong_unit = ""
        return p

    def _unit_for(self, p: _Plan, rng: random.Random) -> str:
        w = self.world
        street_office = w.street_office.get(p.grid.street_id)
        unit = p.category.default_unit or street_office
        if unit == SANITATION_UNIT and rng.random() < 0.3:
            unit = rng.choice(CONTRACTORS)
        elif unit == "CG10" and street_office and rng.random() < 0.15:
            unit = street_office  # street order: the street office deals with it
        return unit if unit in w.handler_names else street_office or HANDLER_UNIT

    def _original(self, at: datetime, rng: random.Random) -> CaseSimulation | None:
        recent = self._recent
        while recent and recent[0].case.created_at < at - timedelta(hours=72):
            recent.popleft()
        for _attempt in range(5):  # a few random picks: the window holds thousands of cases in a big load
            if not recent:
                return None
            sim = recent[rng.randrange(len(recent))]
            if sim.case.created_at < at and (sim.case.closed_at is None or sim.case.closed_at > at):
                return sim
        return None

    # Playing a plan

    def _play(self, p: _Plan, rng: random.Random) -> CaseSimulation:
        w = self.world
        sim = CaseSimulation(w)
        now = self.now

        def go(action, actor, at, **kwargs):
            at = max(at, sim.last_at)
            if at > now:
                raise _Stop
            sim.act(action, actor, at, **kwargs)
            if p.target and sim.case.status == p.target and (not p.stop_after or action == p.stop_after):
                raise _Stop

        def reason(action):
            return rng.choice(REASONS[action])

        operator, lead, dispatcher, leader = (w.user(n) for n in ("operator", "shift_lead", "dispatcher", "leader"))
        desk = operator if rng.random() < 0.85 else lead
        actor, name, phone, external = self._reporter(p, rng)
        sim.report(
            channel=p.channel,
            category=p.category,
            grid=p.grid,
            lon=p.point[0],
            lat=p.point[1],
            description=f"{p.category.name}，{rng.choice(DETAILS)}",
            actor=actor,
            at=p.created_at,
            reporter_name=name,
            reporter_phone=phone,
            external_id=external,
            self_handled=p.self_handled,
            urgent=p.channel == Channel.LEADER,
            photos=1 if p.channel == Channel.INSPECTOR else 0,  # the inspector's photo of the problem
        )
        case = sim.case
        try:
            if p.target and case.status == p.target:
                raise _Stop
            t = p.created_at
            if p.self_handled:
                t = self._after(t, 20, 480, rng)
                if not p.refuse_self:
                    go(A.APPROVE_SELF_HANDLED, desk, t)
                    return sim
                go(A.REFUSE_SELF_HANDLED, desk, t, note=reason(A.REFUSE_SELF_HANDLED))
            if case.status == S.VERIFYING:
                t_merge = self._after(t, 10, 240, rng)
                if p.duplicate_of is not None and rng.random() < 0.5 and _open_at(p.duplicate_of, t_merge):
                    go(A.MERGE, desk, t_merge, note="重复上报，合并处理", duplicate_of=p.duplicate_of)
                    return sim
                t = self._after(t, 30, 600, rng)
                inspector = w.users_by_id[case.assignee_id]
                if p.verify_deny:
                    go(A.VERIFY_DENY, inspector, t, note=reason(A.VERIFY_DENY))
                else:
                    go(A.VERIFY_CONFIRM, inspector, t)
            t = self._after(sim.last_at, 5, 120, rng)
            if p.duplicate_of is not None and _open_at(p.duplicate_of, max(t, sim.last_at)):
                # A duplicate merges only into a case still open (else it is filed like any other).
                go(A.MERGE, desk, t, note="重复上报，合并处理", duplicate_of=p.duplicate_of)
                return sim
            if p.reject:
                go(A.REJECT, desk, t, note=reason(A.REJECT))
                return sim
            if p.void == "filing":
                go(A.REQUEST_VOID, operator, t, note=reason(A.REQUEST_VOID))
                t = self._after(t, 20, 480, rng)
                if not p.void_refused:
                    go(A.APPROVE_VOID, lead, t)
                    return sim
                go(A.REFUSE_VOID, lead, t, note=reason(A.REFUSE_VOID))
                t = self._after(t, 5, 60, rng)
            go(A.FILE, desk, t)
            if p.urgent:
                go(A.MARK_URGENT, desk, t + timedelta(minutes=rng.randint(1, 20)))
            if p.void == "dispatch":
                t = self._after(sim.last_at, 10, 240, rng)
                go(A.REQUEST_VOID, dispatcher, t, note=reason(A.REQUEST_VOID))
                t = self._after(t, 20, 480, rng)
                if not p.void_refused:
                    go(A.APPROVE_VOID, lead, t)
                    return sim
                go(A.REFUSE_VOID, lead, t, note=reason(A.REFUSE_VOID))
                # A refused void goes back to where it was asked from (待派遣 here), else it is filed again.
                if case.status == S.PENDING_FILING:
                    go(A.FILE, desk, self._after(t, 5, 60, rng))
            t = self._after(sim.last_at, 5, 180, rng)
            unit = p.wrong_unit or p.unit
            go(A.DISPATCH, dispatcher, t, unit=w.units[unit])
            if p.wrong_unit:
                wrong = w.handler(p.wrong_unit)
                t = self._after(t, 20, 480, rng)
                if not p.return_before_sign:
                    go(A.SIGN, wrong, t)
                    t = self._after(t, 30, 600, rng)
                go(A.REQUEST_RETURN, wrong, t, note=reason(A.REQUEST_RETURN))
                t = self._after(t, 20, 480, rng)
                if p.return_refused:
                    go(A.REFUSE_RETURN, dispatcher, t, note=reason(A.REFUSE_RETURN))
                else:
                    go(A.APPROVE_RETURN, dispatcher, t)
                    go(A.DISPATCH, dispatcher, self._after(t, 5, 120, rng), unit=w.units[p.unit])
            handler = w.handler(w.units_by_id[case.handling_unit_id].code)
            if case.status == S.DISPATCHED:
                go(A.SIGN, handler, self._after(sim.last_at, 10, 240, rng))
            for rnd in range(p.reworks + 1):
                self._handle_round(sim, p, rng, go, reason, handler, rnd)
                t = self._after(sim.last_at, 40, 1440, rng)
                if rnd < p.reworks:
                    go(A.CHECK_FAIL, w.users_by_id[case.assignee_id], t, note=reason(A.CHECK_FAIL), photos=1)
                else:
                    go(A.CHECK_PASS, w.users_by_id[case.assignee_id], t)
            go(A.CLOSE, lead, self._after(sim.last_at, 10, 300, rng))
            self._ratings(sim, p, rng, go, reason, handler)
        except _Stop:
            pass
        return sim

    def _ratings(self, sim, p: _Plan, rng, go, reason, handler: User) -> None:
        """The reporter's rating after closing; a 不满意 is reviewed: reopened (and handled, checked,
        closed and maybe rated again) or kept closed with a reply."""
        source = RATED_CHANNELS.get(sim.case.channel)
        if source is None:
            return
        w = self.world
        lead = w.user("shift_lead")
        for rnd in range(2):
            if rnd == 0 and p.rating:
                level = None if p.rating == "none" else p.rating
            else:
                level = _weighted(rng, SATISFACTION_WEIGHTS) if rng.random() < P_RATED[sim.case.channel] else None
            if level is None:
                return
            at = self._after(sim.last_at, 60, 3 * 1440, rng, office=False)
            if at > self.now:
                raise _Stop
            sim.rate(level, at, comment=rng.choice(COMMENTS[level]), source=source)
            if p.target and sim.case.status == p.target:
                raise _Stop
            if level != Satisfaction.DISSATISFIED:
                return
            t = self._after(at, 30, 600, rng)
            review = (p.review if rnd == 0 else "") or ("reopen" if rng.random() < P_REOPEN else "keep")
            if review == "keep":
                go(A.KEEP_CLOSED, lead, t, note=reason(A.KEEP_CLOSED))
                return
            go(A.REOPEN, lead, t, unit=w.units_by_id[sim.case.handling_unit_id])
            go(A.SIGN, handler, self._after(sim.last_at, 10, 240, rng))
            self._handle_round(sim, p, rng, go, reason, handler, 1)
            go(A.CHECK_PASS, w.users_by_id[sim.case.assignee_id], self._after(sim.last_at, 40, 1440, rng))
            go(A.CLOSE, lead, self._after(sim.last_at, 10, 300, rng))

    def _handle_round(self, sim, p: _Plan, rng, go, reason, handler: User, rnd: int) -> None:
        w = self.world
        lead, dispatcher, leader = w.user("shift_lead"), w.user("dispatcher"), w.user("leader")
        stage = sim.open
        start = stage.started_at
        if rnd == 0 and p.extension:
            span = (stage.deadline - start) if stage.deadline else timedelta(hours=8)
            t = max(start + span * rng.uniform(0.2, 0.6), sim.last_at)
            amount = {"natural_hours": rng.choice([6, 12]), "working_hours": rng.choice([2, 4, 8])}.get(
                stage.time_unit, rng.choice([1, 2, 3, 5])
            )
            go(A.REQUEST_EXTENSION, handler, t, note=reason(A.REQUEST_EXTENSION), amount=amount)
            t = t + timedelta(minutes=rng.randint(10, 120))
            if p.extension_refused:
                go(A.REFUSE_EXTENSION, lead, t, note=reason(A.REFUSE_EXTENSION))
            else:
                go(A.APPROVE_EXTENSION, lead, t)
        if rnd == 0 and p.deferral:
            t = self._after(sim.last_at, 60, 1440, rng)
            go(A.REQUEST_DEFERRAL, handler, t, note=reason(A.REQUEST_DEFERRAL))
            t = self._after(t, 30, 1440, rng)
            if p.deferral_refused:
                go(A.REFUSE_DEFERRAL, lead, t, note=reason(A.REFUSE_DEFERRAL))
            else:
                go(A.APPROVE_DEFERRAL, lead, t)
                t = w.office(t + timedelta(days=p.deferral_days), rng)
                go(A.RESUME, handler if rng.random() < 0.5 else lead, t)
        deadline = sim.open.deadline
        late = p.late if rnd == 0 else rng.random() < P_LATE / 2
        if deadline is None:
            done = self._after(sim.last_at, 60, 6 * 1440, rng)
        elif late:
            done = self._after(deadline, 30, 4 * 1440, rng)
            if p.remind:
                go(A.REMIND, dispatcher, deadline + (done - deadline) * rng.uniform(0.1, 0.5))
            if p.supervise:
                who = leader if rng.random() < 0.6 else lead
                go(A.SUPERVISE, who, deadline + (done - deadline) * rng.uniform(0.5, 0.9), note=reason(A.SUPERVISE))
        else:
            latest = max(deadline - timedelta(minutes=2), sim.last_at)
            done = sim.last_at + (latest - sim.last_at) * rng.uniform(0.15, 0.95)
            snapped = w.office(done, rng)
            done = snapped if snapped <= latest else done
        go(A.HANDLED, handler, done, note="已处置完毕", resolution_mode=p.mode, photos=1)

    def _reporter(self, p: _Plan, rng: random.Random) -> tuple[User | None, str, str, str]:
        w = self.world
        citizen = rng.choice(SURNAMES) + rng.choice(GIVEN)
        phone = f"1{rng.choice('3589')}{rng.randint(0, 999_999_999):09d}"
        day = p.created_at.astimezone(w.tz).strftime("%Y%m%d")
        if p.channel == Channel.INSPECTOR:
            return p.grid.inspector, "", "", ""
        if p.channel == Channel.PUBLIC:
            return None, citizen, phone, ""
        if p.channel == Channel.HOTLINE:
            return w.user("operator"), citizen, phone, f"12345-{day}-{rng.randint(1, 9999):04d}"
        if p.channel == Channel.VIDEO:
            return None, "", "", f"AI-{day}-{rng.randint(1, 99999):05d}"
        if p.channel == Channel.LEADER:
            return w.user("operator"), "县领导交办", "", ""
        if p.channel == Channel.MEDIA:
            return w.user("operator"), rng.choice(MEDIA), "", ""
        return w.user("operator"), citizen, phone, ""

    # The stream

    def _steered(self, rng: random.Random, n: int) -> list[CaseSimulation]:
        """The live and showcase cases (about 60), played first: their report times are then known."""
        specs = [(status, after, o) for status, after, o, count in LIVE for _ in range(count)]
        specs += [("", "", o) for o in SHOWCASE]
        specs = specs[: max(0, n // 3)]
        out = []
        for k, (status, after, overrides) in enumerate(specs):
            crng = random.Random(f"{self.seed}/steered/{k}")
            days_back = crng.uniform(0.3, 2.5) if status else crng.uniform(20, 90)
            for _attempt in range(40):
                at = self.world.office(self.now - timedelta(days=days_back), crng)
                at = min(at, self.now - timedelta(minutes=30))
                plan = self._plan(at, Channel.INSPECTOR, crng, overrides)
                plan.target, plan.stop_after = status, after
                sim = self._play(plan, crng)
                if self._reached(sim, plan):
                    out.append(sim)
                    break
                days_back += 1.5
        return out

    def _reached(self, sim: CaseSimulation, p: _Plan) -> bool:
        case = sim.case
        if not p.target:
            return case.status in TERMINAL
        if case.status != p.target or (p.stop_after and sim.last_action != p.stop_after):
            return False
        if p.late:
            return case.stage_deadline is not None and case.stage_deadline < self.now
        return case.stage_deadline is None or case.stage_deadline > self.now

    def cases(self, n: int, chunk: int = CHUNK) -> Iterator[list[CaseSimulation]]:
        """n simulated cases in report order, in lists of about `chunk`."""
        rng = random.Random(f"{self.seed}/times")
        steered = self._steered(rng, n)
        steered.sort(key=lambda s: s.case.created_at)
        pending = [(s.case.created_at, k, s) for k, s in enumerate(steered)]
        heapq.heapify(pending)
        batch: list[CaseSimulation] = []
        for k, (at, channel) in enumerate(self._times(n - len(steered), rng)):
            while pending and pending[0][0] <= at:
                batch.append(heapq.heappop(pending)[2])
            crng = random.Random(self.seed * 1_000_003 + k)
            sim = self._play(self._plan(at, channel, crng), crng)
            self._recent.append(sim)
            batch.append(sim)
            if len(batch) >= chunk:
                yield batch
                batch = []
        while pending:
            batch.append(heapq.heappop(pending)[2])
        if batch:
            yield batch


#
# Writing
#


class HistoryWriter:
    """Numbers, ids and inserts, inside the caller's transaction.

    Rows go in with one executemany per batch rather than bulk_create: building model
    instances and compiling bulk_create's SQL took three quarters of the time. Values are
    adapted as Django adapts them (datetimes in UTC, JSON through the field), so the rows are
    the same; the equivalence test in tests/test_history.py reads them back through the ORM.

    Case and event ids are given here (after the largest id in the table), so that the
    attachment rows can name their event without reading the events back; the sequences are
    moved past them after each batch. With `photos`, each simulated photo becomes an
    Attachment row pointing at a file of the shared demo pool (civicgrid/cases/demo_photos.py),
    chosen by the category's theme and the shot (before, after, failed check); without, the
    photos are dropped.
    """

    def __init__(self, *, photos: bool = True):
        from civicgrid.cases.demo_photos import photo_pool, theme_for

        self.next_id = (Case.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        self.next_event_id = (CaseEvent.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        self.sequences: dict[tuple[str, int], CaseNumberSequence] = {}
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.cases = self.stages = self.events = self.attachments = self.ratings = 0
        self.pool = photo_pool() if photos else None
        self.themes = {pk: theme_for(name) for pk, name in Category.objects.values_list("pk", "name")} if photos else {}

    def _number(self, county: str, year: int) -> str:
        seq = self.sequences.get((county, year))
        if seq is None:
            seq, _ = CaseNumberSequence.objects.select_for_update().get_or_create(county_code=county, year=year)
            self.sequences[(county, year)] = seq
        seq.last += 1
        return f"{county}-{year}-{seq.last:06d}"

    def write(self, sims: list[CaseSimulation]) -> None:
        for sim in sims:
            case = sim.case
            case.id = self.next_id
            self.next_id += 1
            case.number = self._number(case.region_code[:6], case.created_at.astimezone(self.tz).year)
            case.updated_at = sim.last_at
            if sim.duplicate_of is not None:
                case.duplicate_of_id = sim.duplicate_of.case.id
                for event in sim.events:
                    if event.action == A.MERGE:
                        event.data["duplicate_of"] = sim.duplicate_of.case.number
        _insert(Case, [s.case for s in sims], with_pk=True)
        stages, events = [], []
        for sim in sims:
            for stage in sim.stages:
                stage.case_id = sim.case.id
                stages.append(stage)
            for event in sim.events:
                event.case_id, event.id = sim.case.id, self.next_event_id
                self.next_event_id += 1
                events.append(event)
        _insert(CaseStage, stages)
        _insert(CaseEvent, events, with_pk=True)
        attachments = self._attachments(sims) if self.pool is not None else []
        _insert(Attachment, attachments)
        ratings = []
        for sim in sims:
            for row in sim.ratings:
                row.case_id, row.event_id = sim.case.id, row._event.id
                ratings.append(row)
        _insert(Rating, ratings)
        for seq in self.sequences.values():
            CaseNumberSequence.objects.filter(pk=seq.pk).update(last=seq.last)
        # Case and event ids were given here, not by the database: move PostgreSQL's sequences past them.
        for sql in connection.ops.sequence_reset_sql(no_style(), [Case, CaseEvent]):
            with connection.cursor() as cursor:
                cursor.execute(sql)
        self.cases += len(sims)
        self.stages += len(stages)
        self.events += len(events)
        self.attachments += len(attachments)
        self.ratings += len(ratings)

    def _attachments(self, sims: list[CaseSimulation]) -> list[_Row]:
        from civicgrid.cases.demo_photos import shot_for

        rows = []
        for sim in sims:
            theme = self.themes[sim.case.category_id]
            for row in sim.attachments:
                event = row._event
                photo = self.pool[theme, shot_for(row.kind, event.action)]
                row.case_id, row.event_id = sim.case.id, event.id
                row.file, row.thumbnail, row.size, row.sha256 = photo.file, photo.thumbnail, photo.size, photo.sha256
                row.content_type = photo.content_type
                rows.append(row)
        return rows


def _adapter(field) -> Callable | None:
    """How Django would hand this field's value to the database driver; None: as it is."""
    if isinstance(field, JSONField):
        if connection.vendor == "sqlite":
            return json.dumps  # as DatabaseOperations.adapt_json_value without an encoder
        return lambda v: field.get_db_prep_save(v, connection)
    if isinstance(field, DateTimeField) and connection.vendor == "sqlite":
        # As DatabaseOperations.adapt_datetimefield_value on SQLite: naive UTC, str().
        return lambda v: None if v is None else str(v.astimezone(UTC).replace(tzinfo=None))
    # Strings (TextChoices members are str), numbers, booleans and None go through as they are.
    return None


def _insert(model, rows: list[_Row], *, with_pk: bool = False, batch: int = 5000) -> None:
    fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
    values = operator.itemgetter(*(f.attname for f in fields))
    adapters = [(i, adapt) for i, f in enumerate(fields) if (adapt := _adapter(f)) is not None]
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        connection.ops.quote_name(model._meta.db_table),
        ", ".join(connection.ops.quote_name(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )

    def prepared(row: _Row) -> list:
        out = list(values(row.__dict__))
        for i, adapt in adapters:
            out[i] = adapt(out[i])
        return out

    with connection.cursor() as cursor:
        for i in range(0, len(rows), batch):
            cursor.executemany(sql, [prepared(r) for r in rows[i : i + batch]])


@dataclass
class HistorySummary:
    cases: int
    stages: int
    events: int
    handlers_created: list[str]
    seconds: float
    attachments: int = 0


def history_build(
    *,
    cases: int = DEFAULT_CASES,
    seed: int = DEFAULT_SEED,
    start: date = HISTORY_START,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
    one_transaction: bool = True,
    photos: bool = True,
) -> HistorySummary:
    """Simulate `cases` cases from `start` to `now` and write them (adds to any cases already there).

    Everything is written in one transaction unless `one_transaction` is False: then each
    chunk of about 5,000 cases commits on its own (the bulk loader: a million cases in one
    SQLite transaction would keep gigabytes in the write-ahead log until the end).
    With `photos` (the default) the cases get their photos as Attachment rows sharing the
    demo photo pool, drawn into MEDIA_ROOT first where missing; without, no Attachment rows.
    """
    from civicgrid.cases.services import cases_mark_overdue

    started = time.monotonic()
    if photos:
        from civicgrid.cases.demo_photos import photo_pool

        photo_pool()  # drawn now if missing, not while a chunk's transaction holds SQLite's write lock
    with transaction.atomic() if one_transaction else nullcontext():
        with transaction.atomic():
            world = World(seed=seed)
            created = world.ensure_handlers()
        generator = HistoryGenerator(world, seed=seed, start=start, now=now)
        writer = None
        for sims in generator.cases(cases):
            with transaction.atomic():
                writer = writer or HistoryWriter(photos=photos)
                writer.write(sims)
                if not one_transaction:
                    writer.sequences.clear()  # read and lock them again in the next transaction
            if progress:
                progress(writer.cases, cases)
        # The periodic sweep would have marked the cases already overdue.
        cases_mark_overdue(generator.now)
    if writer is None:
        return HistorySummary(0, 0, 0, created, time.monotonic() - started)
    return HistorySummary(
        writer.cases, writer.stages, writer.events, created, time.monotonic() - started, writer.attachments
    )


def history_shares(now: datetime | None = None) -> dict[str, float | int]:
    """What the cases in the database add up to: the shares the demo docs quote."""
    now = now or datetime.now(UTC)
    total = Case.objects.count()
    if not total:
        return {"cases": 0}
    handled = Case.objects.filter(events__action=A.HANDLED).distinct()
    n_handled = handled.count() or 1
    with_action = {
        row["action"]: row["n"]
        for row in CaseEvent.objects.values("action").annotate(n=Count("case_id", distinct=True))
    }
    # Overdue: handled late in some stage, or open and past the running stage's deadline.
    late_now = Case.objects.overdue(now).values("pk")
    overdue = Case.objects.filter(Q(stages__on_time=False) | Q(pk__in=late_now)).distinct().count()
    modes = dict(Case.objects.exclude(resolution_mode="").values_list("resolution_mode").annotate(n=Count("id")))
    channels = dict(Case.objects.values_list("channel").annotate(n=Count("id")))
    return {
        "cases": total,
        "open": Case.objects.open().count(),
        "overdue": overdue / total,
        "rework": handled.filter(rework_count__gt=0).count() / n_handled,
        "rejected_or_voided": Case.objects.filter(status__in=[S.REJECTED, S.VOIDED]).count() / total,
        "merged": Case.objects.filter(status=S.MERGED).count() / total,
        "self_handled": (with_action.get(A.APPROVE_SELF_HANDLED, 0) + with_action.get(A.REFUSE_SELF_HANDLED, 0))
        / total,
        "returned": with_action.get(A.APPROVE_RETURN, 0) / total,
        "extended": with_action.get(A.APPROVE_EXTENSION, 0) / total,
        "deferred": with_action.get(A.APPROVE_DEFERRAL, 0) / total,
        "supervised": Case.objects.filter(supervised=True).count() / total,
        **{f"channel_{k}": v / total for k, v in channels.items()},
        **{f"mode_{k}": v / (sum(modes.values()) or 1) for k, v in modes.items()},
    }
