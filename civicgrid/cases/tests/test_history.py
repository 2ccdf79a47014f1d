"""The simulated demo history: deterministic, realistic shares, work in every queue, photos
where the services store them, and rows exactly as the services write them.

The demo county is built once (seed 2021) with a small history of 600 cases up to a fixed
"now", so the shares and queues below do not depend on the day the tests run.
"""

from datetime import UTC, datetime, timedelta
from io import StringIO

from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import transaction
from django.test import TestCase
from django.urls import reverse

from civicgrid.cases.demo_photos import POOL_DIR, SHOTS, THEMES
from civicgrid.cases.history import CaseSimulation, HistoryWriter, World, history_build, history_shares
from civicgrid.cases.models import Attachment, Case, CaseEvent, CaseNumberSequence, CaseStage, Channel, Rating
from civicgrid.cases.selectors import queue_counts, queues_for
from civicgrid.cases.services import ActInput, ReportInput, case_act, case_rate, case_report
from civicgrid.cases.tests.fixtures import photo
from civicgrid.cases.workflow import Action, Status, transition_for
from civicgrid.catalog.models import Category
from civicgrid.core.demo import DEMO_USERS, demo_build
from civicgrid.core.models import OrgUnit, Role, User

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # a Friday, 10:00 in 崇义
CASES = 600
A, S = Action, Status


class _Rollback(Exception):
    pass


def snapshot() -> list[tuple]:
    return list(
        Case.objects.order_by("number").values_list(
            "number", "status", "channel", "category_id", "grid_id", "created_at", "closed_at", "version"
        )
    )


class HistoryTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        demo_build(seed=2021)
        cls.summary = history_build(cases=CASES, seed=7, now=NOW)

    def test_it_writes_the_cases_with_numbers_from_the_sequence(self):
        self.assertEqual(Case.objects.count(), CASES)
        self.assertEqual(self.summary.cases, CASES)
        for seq in CaseNumberSequence.objects.all():
            numbers = sorted(
                Case.objects.filter(number__startswith=f"{seq.county_code}-{seq.year}-").values_list(
                    "number", flat=True
                )
            )
            self.assertEqual(numbers, [f"{seq.county_code}-{seq.year}-{k:06d}" for k in range(1, seq.last + 1)])
        # Numbers follow the report time, as the service gives them.
        by_time = list(Case.objects.order_by("created_at", "id").values_list("number", flat=True))
        self.assertEqual(by_time, sorted(by_time))
        self.assertLessEqual(CaseEvent.objects.order_by("-at").first().at, NOW)

    def test_it_is_deterministic(self):
        before = snapshot()
        events, photos = CaseEvent.objects.count(), Attachment.objects.count()
        try:
            with transaction.atomic():
                Case.objects.update(duplicate_of=None)
                Case.objects.all().delete()
                CaseNumberSequence.objects.all().delete()
                history_build(cases=CASES, seed=7, now=NOW)
                self.assertEqual(snapshot(), before)
                self.assertEqual(CaseEvent.objects.count(), events)
                self.assertEqual(Attachment.objects.count(), photos)
                raise _Rollback
        except _Rollback:
            pass

    def test_it_keeps_to_realistic_shares(self):
        shares = history_shares(NOW)
        self.assertTrue(0.05 <= shares["overdue"] <= 0.10, shares)
        self.assertTrue(0.03 <= shares["rework"] <= 0.08, shares)
        self.assertTrue(0.5 <= shares["channel_inspector"] <= 0.7, shares)
        self.assertTrue(0.08 <= shares["channel_public"] <= 0.22, shares)
        self.assertTrue(0.08 <= shares["channel_hotline"] <= 0.22, shares)
        self.assertTrue(0.01 <= shares["rejected_or_voided"] <= 0.10, shares)
        self.assertTrue(0.6 <= shares["mode_service"] <= 0.8, shares)
        self.assertTrue(0.12 <= shares["mode_management"] <= 0.28, shares)
        self.assertTrue(0.04 <= shares["mode_enforcement"] <= 0.16, shares)

    def test_it_goes_through_every_branch(self):
        actions = set(CaseEvent.objects.values_list("action", flat=True))
        self.assertEqual(actions, {*Action.values, "report", "rate"})
        self.assertEqual(set(Case.objects.values_list("status", flat=True)), set(Status.values))
        self.assertEqual(set(Case.objects.values_list("channel", flat=True)), set(Channel.values))
        self.assertTrue(Case.objects.exclude(duplicate_of=None).filter(status=Status.MERGED).exists())
        self.assertTrue(CaseStage.objects.filter(on_time=False).exists())
        self.assertTrue(CaseStage.objects.filter(on_time=True).exists())
        self.assertTrue(CaseStage.objects.exclude(pauses=[]).exists())

    def test_every_demo_user_finds_work_in_each_of_their_queues(self):
        for username, *_rest in DEMO_USERS:
            user = User.objects.get(username=username)
            counts = queue_counts(user, NOW)
            self.assertEqual(set(counts), {q.key for q in queues_for(user) if q.counted})
            empty = [key for key, n in counts.items() if n == 0]
            self.assertEqual(empty, [], f"{username}: {counts}")

    def test_the_handler_and_the_inspector_find_their_own_cases(self):
        handler, inspector = User.objects.get(username="handler"), User.objects.get(username="inspector")
        unit = OrgUnit.objects.get(code="CG12")
        self.assertEqual(handler.org_unit, unit)
        self.assertTrue(Case.objects.filter(status=Status.DISPATCHED, handling_unit=unit).exists())
        self.assertTrue(Case.objects.filter(status=Status.PROCESSING, handling_unit=unit).exists())
        self.assertTrue(Case.objects.filter(status=Status.VERIFYING, assignee=inspector).exists())
        self.assertTrue(Case.objects.filter(status=Status.CHECKING, assignee=inspector).exists())
        self.assertTrue(Case.objects.overdue(NOW).filter(handling_unit=unit, supervised=True).exists())

    def test_every_event_is_a_transition_the_table_allows(self):
        users = {u.pk: u for u in User.objects.all()}
        events_by_case: dict[int, list[CaseEvent]] = {}
        for event in CaseEvent.objects.order_by("case_id", "at", "id"):
            events_by_case.setdefault(event.case_id, []).append(event)
        for case in Case.objects.all():
            events = events_by_case[case.pk]
            self.assertEqual(events[0].action, "report")
            status, unit, at = events[0].to_status, None, events[0].at
            seen = events[:1]
            for event in events[1:]:
                self.assertEqual(event.from_status, status, case.number)
                self.assertGreaterEqual(event.at, at)
                if event.actor_id is None:  # the public's rating: case_rate, not a staff action
                    self.assertIn(event.action, ("rate", A.DISSATISFIED), case.number)
                    self.assertEqual(event.from_status, S.CLOSED, case.number)
                    expected = S.REVIEW if event.action == A.DISSATISFIED else S.CLOSED
                    self.assertEqual(event.to_status, expected, case.number)
                    status, at = event.to_status, event.at
                    seen.append(event)
                    continue
                actor = users[event.actor_id]
                self.assertEqual((event.actor_role, event.unit_id), (actor.role, actor.org_unit_id))
                row = transition_for(event.from_status, event.action, event.actor_role)  # raises if not allowed
                if row.back:  # a refusal returns to the status the request was made from
                    request = next(e for e in reversed(seen) if e.to_status == event.from_status)
                    self.assertEqual(event.to_status, request.from_status or row.target, case.number)
                else:
                    self.assertEqual(event.to_status, row.target or event.from_status, case.number)
                if actor.role == Role.HANDLER:
                    self.assertEqual(actor.org_unit_id, unit, case.number)
                if event.action in (A.DISPATCH, A.REOPEN):
                    unit = event.data["unit"]["id"]
                elif event.action == A.APPROVE_RETURN:
                    unit = None
                status, at = event.to_status, event.at
                seen.append(event)
            self.assertEqual(status, case.status, case.number)
            self.assertEqual(unit, case.handling_unit_id, case.number)

    def test_stage_rows_agree_with_the_case(self):
        for case in Case.objects.prefetch_related("stages"):
            stages = list(case.stages.all())
            running = [s for s in stages if s.ended_at is None]
            self.assertLessEqual(len(running), 1, case.number)
            if running:
                self.assertEqual((case.stage, case.stage_started_at), (running[0].stage, running[0].started_at))
            else:
                self.assertEqual(case.stage, "")
            for stage in stages:
                if stage.ended_at is not None and stage.deadline is not None:
                    self.assertEqual(stage.on_time, stage.ended_at <= stage.deadline)
                if stage.amount is None:
                    self.assertIsNone(stage.deadline)

    def test_photos_are_where_the_services_would_store_them(self):
        # An after-photo with every 处置反馈 (the table requires one), the inspector's photo with
        # every inspector report (self-handled ones included) and with every failed check.
        events = {e.pk: e for e in CaseEvent.objects.select_related("case")}
        by_event: dict[int, list[Attachment]] = {}
        for attachment in Attachment.objects.all():
            by_event.setdefault(attachment.event_id, []).append(attachment)
        expected = {
            pk: Attachment.Kind.AFTER if e.action == A.HANDLED else Attachment.Kind.BEFORE
            for pk, e in events.items()
            if e.action in (A.HANDLED, A.CHECK_FAIL) or (e.action == "report" and e.case.channel == Channel.INSPECTOR)
        }
        self.assertEqual(
            {pk: [a.kind for a in rows] for pk, rows in by_event.items()}, {pk: [kind] for pk, kind in expected.items()}
        )
        self.assertTrue(any(e.data.get("self_handled") and pk in by_event for pk, e in events.items()))
        files = set()
        for pk, (attachment,) in by_event.items():
            event = events[pk]
            self.assertEqual(attachment.case_id, event.case_id)
            self.assertEqual(attachment.created_at, event.at)
            self.assertEqual(attachment.uploaded_by_id, event.actor_id)
            self.assertEqual(attachment.content_type, "image/jpeg")
            self.assertTrue(attachment.file.name.startswith(f"{POOL_DIR}/"), attachment.file.name)
            files.add((attachment.file.name, attachment.thumbnail.name, attachment.size))
        # Many rows share one of the 24 pool files; each row's size is its file's.
        self.assertLessEqual(len(files), len(THEMES) * len(SHOTS))
        self.assertGreater(len(files), 8)
        for name, thumbnail, size in files:
            self.assertEqual(default_storage.size(name), size)
            self.assertTrue(default_storage.exists(thumbnail))
            self.assertTrue(20_000 <= size <= 70_000, (name, size))
        self.assertEqual(self.summary.attachments, Attachment.objects.count())

    def test_the_case_page_shows_the_simulated_photos(self):
        handled = (
            CaseEvent.objects.filter(action=A.HANDLED, case__status=Status.CLOSED, case__rework_count=0)
            .order_by("id")
            .first()
        )
        report = CaseEvent.objects.get(case_id=handled.case_id, action="report")
        self.client.force_login(User.objects.get(username="leader"))
        response = self.client.get(reverse("cases:detail", args=[handled.case_id]))
        self.assertEqual(response.status_code, 200)
        after = response.context["after_photos"]
        self.assertEqual([(p.event_id, p.kind) for p in after], [(handled.pk, Attachment.Kind.AFTER)])
        self.assertContains(response, after[0].get_thumbnail_url())
        # The page's thumbnail address answers with the pool file's bytes.
        served = self.client.get(after[0].get_thumbnail_url())
        self.assertEqual((served.status_code, served["Content-Type"]), (200, "image/jpeg"))
        with after[0].thumbnail.open("rb") as stored:
            self.assertEqual(b"".join(served.streaming_content), stored.read())
        if handled.case.channel == Channel.INSPECTOR:
            before = response.context["before_photos"]
            self.assertEqual([p.event_id for p in before], [report.pk])

    def test_deleting_a_case_or_a_photo_keeps_the_shared_demo_files(self):
        # FileField does not delete its file with the row, and nothing in CivicGrid does either:
        # the pool files other cases point at stay.
        attachment = Attachment.objects.order_by("id").first()
        names = [attachment.file.name, attachment.thumbnail.name]
        self.assertGreater(Attachment.objects.filter(file=attachment.file.name).count(), 1)
        attachment.delete()
        other = Attachment.objects.filter(file=names[0]).first()
        Case.objects.filter(duplicate_of=other.case).update(duplicate_of=None)  # PROTECT
        other.case.delete()  # its events and attachments go with it
        for name in names:
            self.assertTrue(default_storage.exists(name), name)

    def test_the_demo_command_skips_the_history_when_cases_exist(self):
        out = StringIO()
        call_command("demo", "--force", "--cases", "50", stdout=out)
        self.assertIn("未生成模拟历史", out.getvalue())
        self.assertEqual(Case.objects.count(), CASES)


class HistoryEqualsServicesTests(TestCase):
    """One scripted case played through case_report/case_act and through the simulation: same rows."""

    @classmethod
    def setUpTestData(cls):
        demo_build(seed=2021)

    def script(self, world: World):
        u = world.user
        grid = world.inspector_grids[0]
        inspector, handler = u("inspector"), u("handler")
        t0 = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)  # Monday 09:30 in 崇义
        hours = [
            2,
            3,
            3.5,
            4,
            5,
            6,
            7,
            8,
            26,
            27,
            30,
            200,
            210,
            230,
            240,
            250,
            260,
            262,
            290,
            292,
            293,
            300,
            310,
            312,
            330,
        ]
        unit = OrgUnit.objects.get(code="CG12")
        steps = [
            (A.VERIFY_CONFIRM, inspector, {}),
            (A.FILE, u("operator"), {}),
            (A.MARK_URGENT, u("operator"), {}),
            (A.DISPATCH, u("dispatcher"), {"unit": unit}),
            (A.SIGN, handler, {}),
            (A.REQUEST_EXTENSION, handler, {"note": "材料采购需要时间", "amount": "1"}),
            (A.APPROVE_EXTENSION, u("shift_lead"), {}),
            (A.REMIND, u("dispatcher"), {}),
            (A.REQUEST_DEFERRAL, handler, {"note": "资金未落实"}),
            (A.APPROVE_DEFERRAL, u("shift_lead"), {}),
            (A.RESUME, handler, {}),
            (A.HANDLED, handler, {"note": "已清理", "resolution_mode": "management", "photos": 2}),
            (A.CHECK_FAIL, inspector, {"note": "仍有残留", "photos": 1}),
            (A.SUPERVISE, u("leader"), {"note": "请尽快办结"}),
            (A.HANDLED, handler, {"photos": 1}),
            (A.CHECK_PASS, inspector, {}),
            (A.CLOSE, u("shift_lead"), {}),
            # The caller is not satisfied: the shift lead reopens it to the unit; closed again, rated again.
            ("rate", None, {"satisfaction": "dissatisfied", "comment": "又脏了"}),
            (A.REOPEN, u("shift_lead"), {"unit": unit}),
            (A.SIGN, handler, {}),
            (A.HANDLED, handler, {"photos": 1}),
            (A.CHECK_PASS, inspector, {}),
            (A.CLOSE, u("shift_lead"), {}),
            ("rate", None, {"satisfaction": "basically"}),
        ]
        times = [t0 + timedelta(hours=h) for h in hours]
        return grid, t0, list(zip(steps, times[1:], strict=False))

    def rows(self, case_id: int) -> tuple[dict, list, list, list]:
        case = Case.objects.filter(pk=case_id).values().get()
        for name in ("id", "number", "updated_at"):
            case.pop(name)
        stages = [
            {k: v for k, v in s.items() if k not in ("id", "case_id")}
            for s in CaseStage.objects.filter(case_id=case_id).order_by("started_at", "id").values()
        ]
        ordered = list(CaseEvent.objects.filter(case_id=case_id).order_by("at", "id").values())
        events = [{k: v for k, v in e.items() if k not in ("id", "case_id")} for e in ordered]
        # Attachments: which event (by position in the timeline), kind, uploader and type. The
        # files differ (an upload there, the shared demo pool here) and so do size and hash; the
        # service stamps created_at with the wall clock, not the back-dated `now` of this test.
        position = {e["id"]: k for k, e in enumerate(ordered)}
        attachments = [
            (position[a["event_id"]], a["kind"], a["uploaded_by_id"], a["content_type"])
            for a in Attachment.objects.filter(case_id=case_id).order_by("event_id", "id").values()
        ]
        ratings = [
            (position[r["event_id"]], r["source"], r["satisfaction"], r["comment"], r["unit_id"], r["created_at"])
            for r in Rating.objects.filter(case_id=case_id).order_by("created_at", "id").values()
        ]
        return case, stages, events, attachments, ratings

    def test_the_simulation_writes_what_the_services_write(self):
        world = World(seed=1)
        world.ensure_handlers()
        grid, t0, steps = self.script(world)
        category = Category.objects.get(name="暴露垃圾")
        lon, lat = grid.points[0]
        report = {"description": "暴露垃圾，群众多次反映", "reporter_name": "王芳", "reporter_phone": "13800001234"}

        served = case_report(
            data=ReportInput(
                channel="hotline",
                category_id=category.pk,
                lon=lon,
                lat=lat,
                external_id="12345-20260302-0001",
                created_at=t0,
                photos=[photo()],
                **report,
            ),
            actor=world.user("operator"),
        )
        for (action, actor, extra), at in steps:
            if action == "rate":
                case_rate(case_id=served.pk, source="hotline", now=at, **extra)
                served.refresh_from_db()
                continue
            served = case_act(
                case_id=served.pk,
                data=ActInput(
                    action=action,
                    version=served.version,
                    note=extra.get("note", ""),
                    unit_id=extra["unit"].pk if "unit" in extra else None,
                    amount=extra.get("amount"),
                    resolution_mode=extra.get("resolution_mode", ""),
                    photos=[photo() for _ in range(extra.get("photos", 0))],
                ),
                actor=actor,
                now=at,
            )

        sim = CaseSimulation(world)
        sim.report(
            channel="hotline",
            category=world.categories["暴露垃圾"],
            grid=grid,
            lon=lon,
            lat=lat,
            actor=world.user("operator"),
            at=t0,
            external_id="12345-20260302-0001",
            photos=1,
            **report,
        )
        for (action, actor, extra), at in steps:
            if action == "rate":
                sim.rate(extra["satisfaction"], at, comment=extra.get("comment", ""), source="hotline")
            else:
                sim.act(action, actor, at, **extra)
        writer = HistoryWriter()
        writer.write([sim])
        simulated = Case.objects.get(pk=sim.case.id)

        self.assertEqual(self.rows(simulated.pk), self.rows(served.pk))
        attachments = self.rows(served.pk)[3]
        self.assertEqual(
            [(position, kind) for position, kind, *_rest in attachments],
            [(0, "before"), (12, "after"), (12, "after"), (13, "before"), (15, "after"), (21, "after")],
        )
        for attachment in Attachment.objects.filter(case=simulated).select_related("event"):
            self.assertEqual(attachment.created_at, attachment.event.at)
            self.assertTrue(default_storage.exists(attachment.file.name))
        county, year, seq = served.number.split("-")
        self.assertEqual(simulated.number, f"{county}-{year}-{int(seq) + 1:06d}")
        self.assertEqual(CaseNumberSequence.objects.get(county_code=county, year=int(year)).last, int(seq) + 1)
        # Stage clocks ran: an extension, a pause, a rework, deadlines from the calendar.
        case, stages, _events, _attachments, ratings = self.rows(served.pk)
        self.assertEqual(
            [s["stage"] for s in stages],
            ["verify", "file", "dispatch", "handle", "check", "handle", "check", "close"]
            + ["close", "handle", "check", "close"],  # the review (a close-stage clock), then handled again
        )
        self.assertEqual([r[2] for r in ratings], ["dissatisfied", "basically"])
        self.assertEqual(stages[3]["amount"], 2)
        self.assertEqual(len(stages[3]["pauses"]), 1)
        self.assertEqual(
            (case["status"], case["rework_count"], case["extension_count"], case["reopen_count"]), ("closed", 1, 1, 1)
        )

    def test_the_demo_command_builds_a_small_history(self):
        out = StringIO()
        call_command("demo", "--force", "--cases", "120", stdout=out)
        self.assertIn("已生成模拟历史", out.getvalue())
        self.assertEqual(Case.objects.count(), 120)
        self.assertIn(f"照片 {Attachment.objects.count()} 张", out.getvalue())

    def test_load_cases_appends_to_the_cases_already_there(self):
        call_command("load_cases", "120", stdout=StringIO())
        first = set(Case.objects.values_list("number", flat=True))
        photos = Attachment.objects.count()
        self.assertGreater(photos, 120)
        out = StringIO()
        call_command("load_cases", "120", "--no-photos", stdout=out)
        self.assertIn("数据库现有案件 240 件", out.getvalue())
        self.assertEqual(Attachment.objects.count(), photos)
        self.assertLess(first, set(Case.objects.values_list("number", flat=True)))
        self.assertEqual(Case.objects.values("number").distinct().count(), 240)
