"""The workbenches through HTML: queues, filters, the case page and its actions, reports from
the desk and the inspector's phone, scope.

Personas (fixtures.build_people): Ivy the east street's inspector, Otto the operator, Sue the
shift lead, Dora the dispatcher, Hank handles for the municipal department, Hugo for the water
company, Wes is an operator scoped to the west street, Lea a leader. Time runs from Monday
2026-03-02 09:00, an ordinary working day.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from unittest import mock
from zoneinfo import ZoneInfo

import time_machine
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from civicgrid.cases.models import Attachment, Case, CaseEvent, Channel
from civicgrid.cases.selectors import queue_counts, queues_for
from civicgrid.cases.services import ActInput, case_act
from civicgrid.cases.tests.fixtures import EAST_POINT, WEST_POINT, build_people, photo, report
from civicgrid.cases.workflow import Status
from civicgrid.catalog.models import Stage
from civicgrid.geo.tests.fixtures import xy

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)


class ViewTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_people()

    def setUp(self):
        traveller = time_machine.travel(START, tick=True)
        traveller.start()
        self.addCleanup(traveller.stop)

    def login(self, who: str) -> None:
        self.client.force_login(self.made[who])

    def act(self, case: Case, action: str, who: str, **fields):
        """Post one action from the case page as `who`, with the version the page showed."""
        self.login(who)
        case.refresh_from_db()
        data = {"action": action, f"{action}-version": fields.pop("version", case.version)}
        next_page = fields.pop("next", None)
        if next_page:
            data["next"] = next_page
        data.update({f"{action}-{name}": value for name, value in fields.items()})
        return self.client.post(f"/cases/{case.pk}/act/", data)

    def act_ok(self, case: Case, action: str, who: str, **fields) -> Case:
        response = self.act(case, action, who, **fields)
        self.assertEqual(response.status_code, 302, response.content.decode()[:3000])
        case.refresh_from_db()
        return case

    def self_handled_report(self, description: str) -> Case:
        """Ivy reports from her phone a problem she has already handled herself."""
        self.login("ivy")
        data = {
            "channel": "inspector",
            "category": self.made["category"].pk,
            "lon": EAST_POINT[0],
            "lat": EAST_POINT[1],
            "description": description,
            "self_handled": "on",
            "photos": photo(),
        }
        self.assertRedirects(self.client.post("/cases/m/", data), "/cases/m/")
        case = Case.objects.get()
        self.assertEqual(case.status, Status.SELF_HANDLED)
        return case

    def service(self, case: Case, action: str, who: str, **kwargs) -> Case:
        case.refresh_from_db()
        return case_act(
            case_id=case.pk, data=ActInput(action=action, version=case.version, **kwargs), actor=self.made[who]
        )


class WorkbenchTests(ViewTestCase):
    def setUp(self):
        super().setUp()
        self.filed = report(self.made)
        self.service(self.filed, "file", "otto")
        self.pending = report(self.made, description="井盖缺失")
        self.hotline = report(self.made, channel=Channel.HOTLINE, actor_key="otto", reporter_phone="13812345678")

    def test_it_shows_each_roles_tabs_with_the_right_counts(self):
        expected_tabs = {
            "ivy": ["verify", "check", "overdue", "supervised"],
            "otto": ["verify", "file", "check", "close", "overdue", "supervised"],
            "sue": ["verify", "file", "dispatch", "approve", "check", "close", "overdue", "supervised"],
            "dora": ["dispatch", "sign", "handle", "approve", "overdue", "supervised"],
            "hank": ["sign", "handle", "overdue", "supervised"],
            "lea": [
                "verify",
                "file",
                "dispatch",
                "sign",
                "handle",
                "approve",
                "check",
                "close",
                "overdue",
                "supervised",
            ],
        }
        for who, tabs in expected_tabs.items():
            with self.subTest(who=who):
                self.login(who)
                response = self.client.get("/cases/")
                self.assertEqual(response.status_code, 200)
                shown = {q["key"]: q["count"] for q in response.context["queues"]}
                # Every role ends with 全部案件, which shows no count.
                self.assertEqual(list(shown), [*tabs, "all"])
                self.assertIsNone(shown.pop("all"))
                self.assertEqual(shown, queue_counts(self.made[who]))
        self.login("otto")
        response = self.client.get("/cases/?queue=file")
        self.assertContains(response, "待立案")
        self.assertContains(response, self.pending.number)
        self.assertNotContains(response, self.filed.number)
        self.assertEqual(response.context["page"].paginator.count, 1)

    def test_it_counts_the_inspectors_own_verify_task(self):
        self.login("ivy")
        response = self.client.get("/cases/")
        shown = {q["key"]: q["count"] for q in response.context["queues"]}
        self.assertEqual(shown["verify"], 1)
        self.assertEqual(response.context["queue"], "verify")  # the first queue with work
        self.assertContains(response, self.hotline.number)

    def test_it_lists_all_cases_in_scope_newest_first_closed_ones_too(self):
        west = report(self.made, point=WEST_POINT, description="西街道的井盖")
        Case.objects.filter(pk=self.filed.pk).update(status=Status.CLOSED)
        self.login("otto")
        response = self.client.get("/cases/?queue=all")
        numbers = [c.number for c in response.context["cases"]]
        self.assertEqual(numbers, sorted(numbers, reverse=True))
        self.assertIn(self.filed.number, numbers)
        self.assertContains(response, "按上报时间排序（最新在前）")
        closed = self.client.get("/cases/?queue=all&status=closed").context["cases"]
        self.assertEqual([c.pk for c in closed], [self.filed.pk])
        # A street office's operator sees only the street's cases there too.
        self.login("wes")
        self.assertEqual([c.pk for c in self.client.get("/cases/?queue=all").context["cases"]], [west.pk])

    def test_it_filters_the_list(self):
        self.login("sue")
        response = self.client.get("/cases/", {"queue": "file", "q": "井盖"})
        self.assertEqual([c.pk for c in response.context["cases"]], [])  # the address does not say 井盖
        response = self.client.get("/cases/", {"queue": "verify", "channel": "hotline"})
        self.assertEqual([c.pk for c in response.context["cases"]], [self.hotline.pk])
        response = self.client.get("/cases/", {"queue": "verify", "channel": "public"})
        self.assertEqual(response.context["cases"], [])
        self.assertContains(response, "这个队列里没有案件")
        response = self.client.get("/cases/", {"queue": "file", "street": "360725101"})
        self.assertEqual(response.context["cases"], [])
        response = self.client.get("/cases/", {"queue": "file", "category": self.made["category"].pk})
        self.assertEqual([c.pk for c in response.context["cases"]], [self.pending.pk])
        response = self.client.get("/cases/", {"queue": "file", "date_from": "2026-03-03"})
        self.assertEqual(response.context["cases"], [])

    def test_it_shows_a_renamed_category_and_unit_on_the_next_request(self):
        # The filter bar's categories and the rows' names come from this process's snapshots
        # (civicgrid.cases.reference), cleared when this process saves a category or a unit.
        Case.objects.filter(pk=self.pending.pk).update(handling_unit=self.made["municipal"])
        self.login("sue")
        self.assertContains(self.client.get("/cases/", {"queue": "file"}), "<td>道路破损</td>")
        category, unit = self.made["category"], self.made["municipal"]
        category.name = "道路<破损>"
        category.save()
        unit.name = "市政所 & 养护"
        unit.save()
        response = self.client.get("/cases/", {"queue": "file", "category": category.pk})
        self.assertContains(response, f'<option value="{category.pk}" selected>道路&lt;破损&gt;</option>')
        self.assertContains(response, "<td>道路&lt;破损&gt;</td>")
        self.assertContains(response, "<td>市政所 &amp; 养护</td>")
        self.assertNotContains(response, "道路破损")

    def test_it_explains_a_bad_filter_in_chinese(self):
        self.login("sue")
        response = self.client.get("/cases/", {"queue": "file", "date_from": "yesterday"})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "筛选条件有误")
        self.assertContains(response, "应为日期")
        response = self.client.get("/cases/", {"queue": "file", "status": "bogus"})
        self.assertContains(response, "未知的状态")

    def test_it_swaps_only_the_list_for_htmx(self):
        self.login("otto")
        response = self.client.get("/cases/", {"queue": "file"}, headers={"HX-Request": "true"})
        self.assertTemplateUsed(response, "cases/_case_list.html")
        self.assertTemplateNotUsed(response, "cases/workbench.html")
        self.assertNotContains(response, "<html")
        self.assertContains(response, self.pending.number)

    def test_it_keeps_the_query_count_constant_as_rows_grow(self):
        self.login("sue")

        def count(**headers) -> int:
            with CaptureQueriesContext(connection) as ctx:
                response = self.client.get("/cases/", {"queue": "file"}, headers=headers)
            self.assertEqual(response.status_code, 200)
            return len(ctx.captured_queries)

        count()  # loads this process's snapshots of the names a row shows (civicgrid.cases.reference)
        page, partial = count(), count(HX_Request="true")
        for n in range(12):
            case = report(self.made, description=f"第 {n} 处")
            if n % 3 == 0:
                self.service(case, "mark_urgent", "sue")
        self.assertEqual(Case.objects.filter(status=Status.PENDING_FILING).count(), 13)
        with self.assertNumQueries(page):
            self.client.get("/cases/", {"queue": "file"})
        with self.assertNumQueries(partial):
            self.client.get("/cases/", {"queue": "file"}, headers={"HX-Request": "true"})

    def test_the_list_is_counted_once_with_its_tab(self):
        for n in range(51):
            report(self.made, description=f"第 {n} 处", address=f"东街 {n} 号")
        self.login("sue")
        counted = [q for q in queues_for(self.made["sue"]) if q.counted]
        with CaptureQueriesContext(connection) as ctx:
            response = self.client.get("/cases/", {"queue": "file"})
        counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
        self.assertEqual(len(counts), len(counted))
        self.assertEqual(response.context["page"].paginator.num_pages, 2)
        self.assertContains(response, "下一页")
        # With a filter the list is counted on its own (the tab counts the whole queue).
        with CaptureQueriesContext(connection) as ctx:
            response = self.client.get("/cases/", {"queue": "file", "q": "东街 1"})
        counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
        self.assertEqual(len(counts), len(counted) + 1)
        self.assertEqual(response.context["page"].paginator.count, 11)  # 东街 1 号, 10–19 号

    def test_it_counts_a_filtered_all_list_only_up_to_the_cap(self):
        from civicgrid.cases import views

        for n in range(5):
            report(self.made, description=f"第 {n} 处", address=f"东街 {n} 号")
        self.login("sue")
        with mock.patch.object(views, "LIST_COUNT_CAP", 3):
            with CaptureQueriesContext(connection) as ctx:
                response = self.client.get("/cases/", {"queue": "all", "q": "东街"})
            self.assertContains(response, "共 3+ 件")
            self.assertGreater(len(response.context["cases"]), 3)  # the list itself is not cut
            capped = [q["sql"] for q in ctx.captured_queries if "LIMIT 4" in q["sql"] and "COUNT(" in q["sql"]]
            self.assertEqual(len(capped), 1, [q["sql"] for q in ctx.captured_queries])
            # Below the cap the count is exact; a queue's tab is never capped.
            self.assertContains(self.client.get("/cases/", {"queue": "all", "q": "东街 1 号"}), "共 1 件")
            response = self.client.get("/cases/", {"queue": "file"})
            self.assertGreater(queue_counts(self.made["sue"])["file"], 3)
            self.assertContains(response, f"共 {queue_counts(self.made['sue'])['file']} 件")
            self.assertNotContains(response, "+ 件")

    def test_it_pages_by_fifty(self):
        for n in range(50):
            report(self.made, description=f"第 {n} 处")
        self.login("otto")
        response = self.client.get("/cases/", {"queue": "file"})
        self.assertEqual(len(response.context["cases"]), 50)
        self.assertContains(response, "下一页")
        response = self.client.get("/cases/", {"queue": "file", "page": 2})
        self.assertEqual(len(response.context["cases"]), 1)


class CasePageTests(ViewTestCase):
    def test_it_renders_only_the_actions_the_user_may_take_now(self):
        case = report(self.made)
        self.login("otto")
        response = self.client.get(f"/cases/{case.pk}/")
        self.assertEqual(response.status_code, 200)
        shown = [form.action.value for form in response.context["action_forms"]]
        self.assertEqual(shown, ["file", "merge", "reject", "request_void", "remind", "mark_urgent"])
        self.assertContains(response, 'name="action" value="file"')
        self.assertNotContains(response, 'name="action" value="dispatch"')

        self.login("dora")
        response = self.client.get(f"/cases/{case.pk}/")
        shown = [form.action.value for form in response.context["action_forms"]]
        self.assertEqual(shown, ["request_void", "remind"])

        self.login("lea")
        shown = [f.action.value for f in self.client.get(f"/cases/{case.pk}/").context["action_forms"]]
        self.assertEqual(shown, ["supervise", "remind", "mark_urgent"])

        self.service(case, "file", "otto")
        self.service(case, "dispatch", "dora", unit_id=self.made["municipal"].pk)
        self.login("hank")
        shown = [f.action.value for f in self.client.get(f"/cases/{case.pk}/").context["action_forms"]]
        self.assertEqual(shown, ["sign", "request_return"])
        self.service(case, "sign", "hank")
        response = self.client.get(f"/cases/{case.pk}/")
        shown = [f.action.value for f in response.context["action_forms"]]
        self.assertEqual(shown, ["handled", "request_return", "request_extension", "request_deferral"])
        self.assertContains(response, "单位：工作时（当前时限 4 工作时）")
        self.login("ivy")
        response = self.client.get(f"/cases/{case.pk}/")
        self.assertEqual(response.context["action_forms"], [])
        self.assertContains(response, "您当前没有可对此案件执行的操作")

    def test_it_keeps_the_case_pages_query_count_constant_as_history_grows(self):
        def queries(case) -> int:
            with CaptureQueriesContext(connection) as ctx:
                response = self.client.get(f"/cases/{case.pk}/")
            self.assertEqual(response.status_code, 200)
            return len(ctx.captured_queries)

        short, long = report(self.made), report(self.made, point=WEST_POINT)
        for case in (short, long):
            self.service(case, "file", "otto")
            self.service(case, "dispatch", "dora", unit_id=self.made["municipal"].pk)
        for _round in range(3):  # more events, stages and photos on the long one
            self.service(long, "remind", "dora")
            self.service(long, "sign", "hank")
            self.service(long, "handled", "hank", photos=[photo()])
            self.service(long, "check_fail", "ivy", note="未修好")
            self.service(long, "request_return", "hank", note="不归本单位")
            self.service(long, "approve_return", "dora")
            self.service(long, "dispatch", "dora", unit_id=self.made["municipal"].pk)
        self.login("sue")
        self.assertEqual(queries(long), queries(short))

    def test_it_names_the_channel_of_a_report_nobody_logged_in_made(self):
        case = report(self.made, channel=Channel.PUBLIC, actor_key=None)
        self.login("otto")
        response = self.client.get(f"/cases/{case.pk}/")
        timeline = response.content.decode().split("处理过程", 1)[1].split('<div class="who">')[1:]
        self.assertEqual([entry.split("</div>", 1)[0] for entry in timeline], ["公众上报"])

    def test_it_shows_facts_timeline_stages_and_map(self):
        case = report(
            self.made,
            channel=Channel.HOTLINE,
            actor_key="otto",
            reporter_name="王女士",
            reporter_phone="13812345678",
            photos=[photo("before.jpg", "red")],
        )
        self.login("dora")
        response = self.client.get(f"/cases/{case.pk}/")
        self.assertContains(response, case.number)
        self.assertContains(response, "待核实")
        self.assertContains(response, "王女士")
        self.assertContains(response, "138****5678")
        self.assertNotContains(response, "13812345678")
        self.assertContains(response, "东街道")
        self.assertContains(response, "上报")  # the timeline's first event
        self.assertContains(response, "环节用时")
        self.assertContains(response, 'id="case-map-config"')
        self.assertEqual(len(response.context["before_photos"]), 1)
        self.login("otto")
        self.assertContains(self.client.get(f"/cases/{case.pk}/"), "13812345678")

    def test_it_suggests_duplicates_and_merges_them(self):
        first = report(self.made)
        second = report(self.made, point=xy(0.5001, 0.5001))
        self.login("otto")
        response = self.client.get(f"/cases/{second.pk}/")
        self.assertEqual(response.context["duplicates"], [first])
        self.assertContains(response, f"合并到 {first.number}")
        self.act_ok(second, "merge", "otto", duplicate_of=first.number)
        self.assertEqual(second.status, Status.MERGED)
        self.assertEqual(second.duplicate_of, first)

    def test_it_shows_the_conflict_and_changes_nothing_on_a_double_submit(self):
        case = report(self.made)
        self.service(case, "file", "otto")
        case.refresh_from_db()
        seen = case.version
        self.act_ok(case, "dispatch", "dora", unit=self.made["municipal"].pk, version=seen)
        events = CaseEvent.objects.filter(case=case).count()
        response = self.act(case, "dispatch", "dora", unit=self.made["water"].pk, version=seen)
        self.assertEqual(response.status_code, 409)
        self.assertContains(response, "该案件已被他人处理，当前状态：待签收", status_code=409)
        case.refresh_from_db()
        self.assertEqual(case.handling_unit, self.made["municipal"])
        self.assertEqual(CaseEvent.objects.filter(case=case).count(), events)
        # The page shows the current state: the dispatcher has nothing left to do here.
        shown = [f.action.value for f in response.context["action_forms"]]
        self.assertNotIn("dispatch", shown)

    def test_it_asks_for_a_missing_reason(self):
        case = report(self.made)
        response = self.act(case, "reject", "otto", note="  ")
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "请填写原因", status_code=400)
        case.refresh_from_db()
        self.assertEqual(case.status, Status.PENDING_FILING)
        self.assertEqual(CaseEvent.objects.filter(case=case).count(), 1)

    def test_it_asks_for_a_missing_after_photo_and_a_unit(self):
        case = report(self.made)
        self.service(case, "file", "otto")
        response = self.act(case, "dispatch", "dora")
        self.assertContains(response, "请选择处置单位", status_code=400)
        self.service(case, "dispatch", "dora", unit_id=self.made["municipal"].pk)
        self.service(case, "sign", "hank")
        response = self.act(case, "handled", "hank", resolution_mode="service")
        self.assertContains(response, "请上传处置后照片", status_code=400)
        case.refresh_from_db()
        self.assertEqual(case.status, Status.PROCESSING)

    def test_it_rejects_a_non_image_after_photo(self):
        case = report(self.made)
        self.service(case, "file", "otto")
        self.service(case, "dispatch", "dora", unit_id=self.made["municipal"].pk)
        self.service(case, "sign", "hank")
        from django.core.files.uploadedfile import SimpleUploadedFile

        fake = SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")
        response = self.act(case, "handled", "hank", resolution_mode="service", photos=fake)
        self.assertEqual(response.status_code, 400)
        case.refresh_from_db()
        self.assertEqual(case.status, Status.PROCESSING)
        self.assertFalse(Attachment.objects.filter(case=case, kind=Attachment.Kind.AFTER).exists())

    def test_it_suggests_the_categorys_default_unit_first(self):
        category = self.made["category"]
        category.default_handling_unit = self.made["water"]
        category.save()
        case = report(self.made)
        self.service(case, "file", "otto")
        self.login("dora")
        form = next(f for f in self.client.get(f"/cases/{case.pk}/").context["action_forms"] if f.action == "dispatch")
        self.assertEqual(list(form.fields["unit"].queryset)[0], self.made["water"])


class LoopTests(ViewTestCase):
    """Whole cases through the HTML views, each step by the user whose job it is."""

    def test_it_takes_an_inspectors_mobile_report_to_closure(self):
        self.login("ivy")
        response = self.client.post(
            "/cases/m/",
            {
                "channel": "inspector",
                "category": self.made["category"].pk,
                "lon": EAST_POINT[0],
                "lat": EAST_POINT[1],
                "description": "人行道砖破损",
                "photos": photo("scene.jpg", "red"),
            },
        )
        self.assertRedirects(response, "/cases/m/")
        case = Case.objects.get(description="人行道砖破损")
        self.assertEqual(case.status, Status.PENDING_FILING)
        self.assertEqual(case.attachments.filter(kind=Attachment.Kind.BEFORE).count(), 1)

        self.act_ok(case, "file", "otto")
        self.act_ok(case, "dispatch", "dora", unit=self.made["municipal"].pk)
        self.act_ok(case, "sign", "hank")
        self.assertEqual(case.status, Status.PROCESSING)
        self.act_ok(case, "handled", "hank", resolution_mode="management", note="已修复", photos=photo())
        self.assertEqual(case.status, Status.CHECKING)
        self.assertEqual(case.resolution_mode, "management")

        self.login("ivy")
        response = self.client.get("/cases/m/tasks/")
        self.assertEqual([t["case"].pk for t in response.context["tasks"]], [case.pk])
        response = self.client.get(f"/cases/m/{case.pk}/")
        self.assertContains(response, "核查通过")
        self.assertContains(response, "button primary big")
        response = self.act(case, "check_pass", "ivy", next="m")
        self.assertRedirects(response, "/cases/m/#tasks", fetch_redirect_response=False)
        self.assertEqual(self.client.get("/cases/m/tasks/").context["tasks"], [])
        self.act_ok(case, "close", "sue")
        self.assertEqual(case.status, Status.CLOSED)
        actions = list(case.events.values_list("action", flat=True))
        self.assertEqual(actions, ["report", "file", "dispatch", "sign", "handled", "check_pass", "close"])

        self.login("sue")
        response = self.client.get(f"/cases/{case.pk}/")
        self.assertContains(response, "已结案")
        self.assertEqual(len(response.context["after_photos"]), 1)
        self.assertEqual(len(response.context["stages"]), 5)  # file, dispatch, handle, check, close

    def test_it_goes_through_a_return_an_extension_and_rework(self):
        case = report(self.made)
        self.act_ok(case, "file", "otto")
        self.act_ok(case, "dispatch", "dora", unit=self.made["water"].pk)
        self.act_ok(case, "request_return", "hugo", note="不属于供水管线")
        self.assertEqual(case.status, Status.RETURN_REQUESTED)
        response = self.act(case, "approve_return", "dora")
        self.assertEqual(response.status_code, 302)
        case.refresh_from_db()
        self.assertEqual((case.status, case.return_count), (Status.FILED, 1))
        # The water company no longer sees the case: it went back to dispatch.
        self.login("hugo")
        self.assertEqual(self.client.get(f"/cases/{case.pk}/").status_code, 404)

        self.act_ok(case, "dispatch", "dora", unit=self.made["municipal"].pk)
        self.act_ok(case, "sign", "hank")
        deadline = case.stage_deadline
        self.act_ok(case, "request_extension", "hank", note="需要采购材料", amount="2")
        self.act_ok(case, "approve_extension", "sue")
        self.assertEqual((case.status, case.extension_count), (Status.PROCESSING, 1))
        self.assertGreater(case.stage_deadline, deadline)

        self.act_ok(case, "handled", "hank", resolution_mode="service", photos=photo())
        self.act_ok(case, "check_fail", "ivy", note="仍有积水", photos=photo("still.jpg", "blue"))
        self.assertEqual((case.status, case.rework_count), (Status.PROCESSING, 1))
        self.act_ok(case, "handled", "hank", resolution_mode="service", photos=photo("again.jpg", "yellow"))
        self.act_ok(case, "check_pass", "ivy")
        self.act_ok(case, "close", "sue")
        self.assertEqual(case.status, Status.CLOSED)

        self.login("sue")
        response = self.client.get(f"/cases/{case.pk}/")
        for text in ("申请回退", "同意回退", "申请延期", "同意延期", "核查不通过（返工）", "仍有积水", "派往"):
            self.assertContains(response, text)


class _CasePage(HTMLParser):
    """What a browser gets from a case page: its forms (with the values it would send unedited)
    and the timeline's steps with their notes."""

    def __init__(self, response):
        super().__init__()
        self.response = response
        self.forms: list[dict] = []  # {"id", "url", "fields": {name: value or None for a file}}
        self.steps: list[str] = []
        self.notes: list[str] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._textarea: str | None = None
        self._timeline = False
        self._text: list[str] | None = None
        self.feed(response.content.decode())
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "form":
            self._form = {"id": attrs.get("id", ""), "url": attrs.get("action"), "fields": {}}
            self.forms.append(self._form)
        elif tag == "ol" and "timeline" in classes:
            self._timeline = True
        elif self._timeline and (tag == "strong" or (tag == "div" and "note" in classes)):
            self._text = [tag]
        if self._form is None or not attrs.get("name"):
            return
        fields, name = self._form["fields"], attrs["name"]
        if tag == "input":
            kind = attrs.get("type", "text")
            if kind == "file":
                fields[name] = None
            elif kind not in ("checkbox", "radio") or "checked" in attrs:
                fields[name] = attrs.get("value") or ""
        elif tag == "textarea":
            fields[name], self._textarea = "", name
        elif tag == "select":
            fields[name], self._select = None, name
        if tag == "option" and self._select:
            # The selected option, else the first one, as a browser sends an untouched <select>.
            if fields[self._select] is None or "selected" in attrs:
                fields[self._select] = attrs.get("value", "")

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)
        elif self._textarea and self._form is not None:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "ol":
            self._timeline = False
        elif self._text is not None and tag == self._text[0]:
            text = "".join(self._text[1:]).strip()
            (self.steps if tag == "strong" else self.notes).append(text)
            self._text = None

    @property
    def offered(self) -> list[str]:
        """The actions whose forms the side panel shows, in order."""
        return [f["id"].removeprefix("act-") for f in self.forms if f["id"].startswith("act-")]

    def form(self, form_id: str) -> dict | None:
        return next((f for f in self.forms if f["id"] == form_id), None)


class HtmlBranchTests(ViewTestCase):
    """Every branch of the loop besides the plain closure, the approved return, the approved
    extension and rework (LoopTests), through the case page: each step is the form the page
    shows its user, sent as the browser sends it. After each step: the status, the counters
    and what the page then shows (timeline, flags, the actions offered next)."""

    def page(self, case: Case, who: str, *, mobile: bool = False) -> _CasePage:
        self.login(who)
        response = self.client.get(f"/cases/m/{case.pk}/" if mobile else f"/cases/{case.pk}/")
        self.assertEqual(response.status_code, 200)
        return _CasePage(response)

    def submit(self, case: Case, action: str, who: str, *, mobile: bool = False, **fields):
        """Fill in the action's form on `who`'s case page and send it; the case is refreshed."""
        page = self.page(case, who, mobile=mobile)
        form = page.form(f"act-{action}")
        self.assertIsNotNone(form, f"{who} is not offered {action}; the page offers {page.offered}")
        data = {name: value for name, value in form["fields"].items() if value is not None}
        for key, value in fields.items():
            self.assertIn(f"{action}-{key}", form["fields"], f"the {action} form has no {key} field")
            data[f"{action}-{key}"] = value
        response = self.client.post(form["url"], data)
        self.assertEqual(response.status_code, 302, response.content.decode()[:3000])
        case.refresh_from_db()
        return response

    def processing(self) -> Case:
        """A case filed, dispatched to the municipal department and signed, through the pages."""
        case = report(self.made)
        self.submit(case, "file", "otto")
        self.submit(case, "dispatch", "dora", unit=self.made["municipal"].pk)
        self.submit(case, "sign", "hank")
        self.assertEqual(case.status, Status.PROCESSING)
        return case

    def test_it_rejects_a_report_with_a_reason(self):
        case = report(self.made)
        response = self.act(case, "reject", "otto")
        self.assertContains(response, "请填写原因", status_code=400)
        self.submit(case, "reject", "otto", note="不属于城市管理范围")
        self.assertEqual(case.status, Status.REJECTED)
        self.assertIsNotNone(case.closed_at)
        self.assertIsNone(case.stage_deadline)  # no clock runs on a rejected report
        page = self.page(case, "otto")
        self.assertEqual(page.steps, ["上报", "不予立案"])
        self.assertIn("不属于城市管理范围", page.notes)
        self.assertEqual(page.offered, [])
        self.assertContains(page.response, "您当前没有可对此案件执行的操作")
        self.assertNotIn(case, self.client.get("/cases/", {"queue": "file"}).context["cases"])

    def test_it_confirms_a_hotline_report_on_the_inspectors_phone(self):
        case = report(self.made, channel=Channel.HOTLINE, actor_key="otto", reporter_phone="13812345678")
        self.assertEqual((case.status, case.assignee), (Status.VERIFYING, self.made["ivy"]))
        self.login("ivy")
        tasks = self.client.get("/cases/m/tasks/").context["tasks"]
        self.assertEqual([(t["kind"], t["case"].pk) for t in tasks], [("verify", case.pk)])
        self.assertEqual(self.page(case, "otto").offered, ["merge", "remind", "mark_urgent"])  # no filing yet

        response = self.submit(case, "verify_confirm", "ivy", mobile=True, note="现场属实", photos=photo("s.jpg"))
        self.assertRedirects(response, "/cases/m/#tasks", fetch_redirect_response=False)
        self.assertEqual((case.status, case.verified, case.assignee), (Status.PENDING_FILING, True, None))
        self.assertEqual(self.client.get("/cases/m/tasks/").context["tasks"], [])

        page = self.page(case, "otto")
        self.assertEqual(page.steps, ["上报", "核实属实"])
        self.assertIn("现场属实", page.notes)
        self.assertEqual(len(page.response.context["before_photos"]), 1)  # the inspector's photo
        self.assertEqual(page.offered[0], "file")
        self.submit(case, "file", "otto")
        self.assertEqual(case.status, Status.FILED)

    def test_it_denies_a_public_report_and_the_operator_rejects_it(self):
        case = report(self.made, channel=Channel.PUBLIC, actor_key="otto")
        self.assertEqual(case.status, Status.VERIFYING)
        response = self.act(case, "verify_deny", "ivy", note="")
        self.assertContains(response, "请填写原因", status_code=400)
        case.refresh_from_db()
        self.assertEqual(case.status, Status.VERIFYING)

        self.submit(case, "verify_deny", "ivy", note="现场未发现坑洼")
        self.assertEqual((case.status, case.verified), (Status.PENDING_FILING, False))
        page = self.page(case, "otto")
        self.assertEqual(page.steps, ["上报", "核实不属实"])
        self.assertIn("现场未发现坑洼", page.notes)
        self.assertIn("reject", page.offered)
        self.submit(case, "reject", "otto", note="经核实不属实")
        self.assertEqual(case.status, Status.REJECTED)
        self.assertEqual(self.page(case, "otto").steps, ["上报", "核实不属实", "不予立案"])

    def test_it_voids_only_with_the_shift_leads_approval(self):
        case = report(self.made)
        self.submit(case, "request_void", "otto", note="测试数据，误报")
        self.assertEqual(case.status, Status.VOID_REQUESTED)
        self.assertEqual(self.page(case, "otto").offered, ["remind", "mark_urgent"])
        # The operator who asked cannot approve, even by posting the form by hand.
        self.assertEqual(self.act(case, "approve_void", "otto").status_code, 403)
        case.refresh_from_db()
        self.assertEqual(case.status, Status.VOID_REQUESTED)

        page = self.page(case, "sue")
        self.assertEqual(page.offered[:2], ["approve_void", "refuse_void"])
        self.submit(case, "approve_void", "sue")
        self.assertEqual(case.status, Status.VOIDED)
        self.assertIsNotNone(case.closed_at)
        page = self.page(case, "sue")
        self.assertEqual(page.steps, ["上报", "申请作废", "同意作废"])
        self.assertIn("测试数据，误报", page.notes)
        self.assertEqual(page.offered, [])
        self.assertContains(page.response, '<span class="status-badge">已作废</span>', html=True)

    def test_it_sends_a_refused_void_back_to_the_status_it_was_asked_from(self):
        case = report(self.made)
        self.submit(case, "file", "otto")
        self.submit(case, "request_void", "dora", note="疑似重复派单")
        self.assertEqual(case.status, Status.VOID_REQUESTED)
        response = self.act(case, "refuse_void", "sue", note=" ")
        self.assertContains(response, "请填写原因", status_code=400)

        self.submit(case, "refuse_void", "sue", note="不是重复案件，继续办理")
        self.assertEqual(case.status, Status.FILED)  # 待派遣 again, not 待立案
        self.assertIsNone(case.closed_at)
        page = self.page(case, "dora")
        self.assertEqual(page.steps, ["上报", "立案", "申请作废", "不同意作废"])
        self.assertIn("不是重复案件，继续办理", page.notes)
        self.assertContains(page.response, "作废待审批 → 待派遣")
        self.assertEqual(page.offered[0], "dispatch")
        self.submit(case, "dispatch", "dora", unit=self.made["municipal"].pk)
        self.assertEqual(case.status, Status.DISPATCHED)

    def test_it_refuses_a_return_and_keeps_the_unit(self):
        case = report(self.made)
        self.submit(case, "file", "otto")
        self.submit(case, "dispatch", "dora", unit=self.made["municipal"].pk)
        self.submit(case, "request_return", "hank", note="不属于本单位职责")  # before signing
        self.assertEqual(case.status, Status.RETURN_REQUESTED)
        self.assertEqual(self.page(case, "hank").offered, [])
        self.assertEqual(self.page(case, "dora").offered[:2], ["approve_return", "refuse_return"])

        self.submit(case, "refuse_return", "dora", note="人行道属市政所管养")
        self.assertEqual(
            (case.status, case.handling_unit, case.return_count), (Status.DISPATCHED, self.made["municipal"], 0)
        )
        page = self.page(case, "hank")  # still the department's case, waiting for its signature
        self.assertEqual(page.offered, ["sign", "request_return"])
        self.assertEqual(page.steps[-2:], ["申请回退", "不同意回退"])
        self.assertIn("人行道属市政所管养", page.notes)
        self.assertContains(page.response, "<span>回退 0</span>")
        self.submit(case, "sign", "hank")
        self.assertEqual(case.status, Status.PROCESSING)

    def test_it_refuses_an_extension_and_keeps_the_deadline(self):
        case = self.processing()
        deadline = case.stage_deadline
        self.submit(case, "request_extension", "hank", note="需要采购材料", amount="2")
        self.assertEqual(case.status, Status.EXTENSION_REQUESTED)
        self.assertEqual(self.page(case, "sue").offered[:2], ["approve_extension", "refuse_extension"])

        self.submit(case, "refuse_extension", "sue", note="材料库存充足")
        self.assertEqual((case.status, case.extension_count), (Status.PROCESSING, 0))
        self.assertEqual(case.stage_deadline, deadline)
        self.assertEqual(case.stages.get(stage=Stage.HANDLE, ended_at=None).amount, Decimal("4"))
        page = self.page(case, "hank")
        self.assertEqual(page.steps[-2:], ["申请延期", "不同意延期"])
        self.assertIn("材料库存充足", page.notes)
        self.assertContains(page.response, "延期：2 工作时")  # what was asked for
        self.assertContains(page.response, "<span>延期 0</span>")
        self.assertEqual(page.offered[0], "handled")

    def test_it_defers_with_the_clock_paused_and_resumes(self):
        case = self.processing()
        deadline = case.stage_deadline
        # A refused deferral first: the clock never stops.
        self.submit(case, "request_deferral", "hank", note="等待资金")
        self.submit(case, "refuse_deferral", "sue", note="资金已到位")
        self.assertEqual((case.status, case.deferral_count, case.stage_deadline), (Status.PROCESSING, 0, deadline))

        self.submit(case, "request_deferral", "hank", note="雨季无法施工")
        self.assertEqual(case.status, Status.DEFERRAL_REQUESTED)
        self.submit(case, "approve_deferral", "sue")
        self.assertEqual((case.status, case.deferral_count, case.stage_deadline), (Status.DEFERRED, 1, None))
        self.assertEqual(case.light(), "paused")
        page = self.page(case, "hank")
        self.assertEqual(page.offered, ["resume"])
        self.assertContains(page.response, 'class="light big paused"')
        self.assertContains(page.response, '<div class="deadline paused">暂停计时</div>', html=True)
        self.assertContains(page.response, '<span class="tag">暂停</span>', html=True)
        self.assertContains(page.response, "<span>缓办 1</span>")
        # Deferred cases are not late, however long they wait.
        self.login("sue")
        self.assertNotIn(case, self.client.get("/cases/", {"queue": "overdue"}).context["cases"])

        with time_machine.travel(START + timedelta(hours=1), tick=False):
            self.submit(case, "resume", "hank")
            self.assertEqual((case.status, case.stage_paused), (Status.PROCESSING, False))
            # The hour spent deferred is not counted against the unit.
            self.assertGreaterEqual(case.stage_deadline - deadline, timedelta(minutes=59))
            self.assertEqual(case.light(), "green")
            page = self.page(case, "hank")
            self.assertEqual(page.steps[-2:], ["同意缓办", "恢复处置"])
            self.assertNotContains(page.response, "暂停计时")
            self.assertEqual(page.offered[0], "handled")

    def test_it_merges_a_duplicate_from_the_suggestions(self):
        first = report(self.made)
        second = report(self.made, point=xy(0.5001, 0.5001))
        response = self.act(second, "merge", "otto", duplicate_of="不存在的编号")
        self.assertContains(response, "请填写未结案的原案件编号", status_code=400)

        page = self.page(second, "otto")
        button = next(f for f in page.forms if f["fields"].get("action") == "merge" and not f["id"])
        self.assertEqual(button["fields"]["merge-duplicate_of"], first.number)
        self.assertEqual(self.client.post(button["url"], button["fields"]).status_code, 302)
        second.refresh_from_db()
        first.refresh_from_db()
        self.assertEqual((second.status, second.duplicate_of), (Status.MERGED, first))
        self.assertEqual(first.status, Status.PENDING_FILING)
        page = self.page(second, "otto")
        self.assertEqual(page.steps, ["上报", "合并为重复案件"])
        self.assertEqual(page.offered, [])
        self.assertContains(page.response, f'<a href="/cases/{first.pk}/">{first.number}</a>', html=True)
        self.assertNotContains(page.response, "疑似重复案件")

    def test_it_sends_a_refused_self_handled_report_to_filing(self):
        # The approved review is ReportTests.test_it_takes_a_self_handled_report_from_the_phone_to_review.
        case = self.self_handled_report("路面坑洼，已填补")
        self.assertEqual(self.page(case, "otto").offered[:2], ["approve_self_handled", "refuse_self_handled"])

        self.submit(case, "refuse_self_handled", "otto", note="照片看不出已处理")
        self.assertEqual((case.status, case.closed_at), (Status.PENDING_FILING, None))
        page = self.page(case, "otto")
        self.assertEqual(page.steps, ["上报", "自处理审核不通过"])
        self.assertIn("照片看不出已处理", page.notes)
        self.assertEqual(page.offered[0], "file")
        self.submit(case, "file", "otto")
        self.assertEqual(case.status, Status.FILED)

    def test_it_marks_supervision_reminders_and_urgency_without_moving_the_case(self):
        case = report(self.made)
        self.submit(case, "file", "otto")
        page = self.page(case, "lea")
        self.assertEqual(page.offered, ["supervise", "remind", "mark_urgent"])
        self.assertNotContains(page.response, "flag supervised")
        self.assertNotContains(page.response, "flag urgent")
        self.assertEqual(self.act(case, "supervise", "dora", note="快办").status_code, 403)

        self.submit(case, "supervise", "lea", note="群众多次反映")
        self.assertEqual((case.status, case.supervised), (Status.FILED, True))
        self.login("otto")
        self.assertEqual(self.client.get("/cases/", {"queue": "supervised"}).context["cases"], [case])

        self.submit(case, "remind", "dora")
        self.submit(case, "remind", "lea", note="请今天派遣")
        self.assertEqual((case.status, case.remind_count), (Status.FILED, 2))
        self.submit(case, "mark_urgent", "otto")
        self.assertEqual((case.status, case.urgent), (Status.FILED, True))

        page = self.page(case, "dora")
        self.assertEqual(page.steps, ["上报", "立案", "督办", "催办", "催办", "标记紧急"])
        self.assertEqual(page.notes, ["群众多次反映", "请今天派遣"])
        self.assertContains(page.response, '<span class="flag supervised">督办</span>', html=True)
        self.assertContains(page.response, '<span class="flag urgent">紧急</span>', html=True)
        self.assertContains(page.response, "<span>催办 2</span>")
        self.assertEqual(page.offered[0], "dispatch")  # the marks did not move the case on


class ReportTests(ViewTestCase):
    def form(self, **overrides) -> dict:
        data = {
            "channel": "hotline",
            "category": self.made["category"].pk,
            "lon": EAST_POINT[0],
            "lat": EAST_POINT[1],
            "description": "路灯不亮",
            "reporter_name": "张先生",
            "reporter_phone": "13900001111",
        }
        data.update(overrides)
        return data

    def test_it_registers_a_hotline_report_for_verification(self):
        self.login("otto")
        response = self.client.get("/cases/new/")
        self.assertContains(response, "登记案件")
        self.assertNotContains(response, 'value="inspector"')  # only inspectors report as inspectors
        response = self.client.post("/cases/new/", self.form())
        case = Case.objects.get()
        self.assertRedirects(response, f"/cases/{case.pk}/")
        self.assertEqual((case.status, case.assignee), (Status.VERIFYING, self.made["ivy"]))

    def test_it_refuses_a_point_outside_the_managed_area(self):
        self.login("otto")
        response = self.client.post("/cases/new/", self.form(lon="113.0", lat="24.0"))
        self.assertContains(response, "位置不在管理区域内", status_code=400)
        self.assertFalse(Case.objects.exists())

    def test_it_asks_for_missing_fields_in_chinese(self):
        self.login("otto")
        response = self.client.post("/cases/new/", self.form(category="", lon="", description=""))
        self.assertContains(response, "请选择问题分类", status_code=400)
        self.assertContains(response, "请在地图上点选位置或填写经纬度", status_code=400)
        self.assertContains(response, "请填写问题描述", status_code=400)
        self.assertFalse(Case.objects.exists())

    def test_it_refuses_an_unknown_category(self):
        self.login("otto")
        response = self.client.post("/cases/new/", self.form(category="999999"))
        self.assertContains(response, "分类不存在或已停用", status_code=400)
        self.assertFalse(Case.objects.exists())

    def test_it_finds_categories_by_name(self):
        self.login("ivy")
        response = self.client.get("/cases/categories/", {"q": "破损"})
        self.assertContains(response, "道路破损")
        self.assertContains(response, f'data-id="{self.made["category"].pk}"')
        response = self.client.get("/cases/categories/", {"q": "不存在的东西"})
        self.assertContains(response, "没有名称包含")

    def test_it_serves_the_mobile_page_with_camera_and_gps(self):
        self.login("ivy")
        response = self.client.get("/cases/m/")
        self.assertContains(response, 'capture="environment"')
        self.assertContains(response, 'accept="image/*"')
        self.assertContains(response, "获取当前位置")

    def test_it_takes_a_self_handled_report_from_the_phone_to_review(self):
        case = self.self_handled_report("路边小广告，已清除")
        self.act_ok(case, "approve_self_handled", "otto")
        self.assertEqual(case.status, Status.CLOSED)

    def test_it_offers_self_handling_only_to_inspectors(self):
        self.login("otto")
        self.assertNotContains(self.client.get("/cases/new/"), "自处理")
        self.client.post("/cases/new/", self.form(self_handled="on"))
        self.assertEqual(Case.objects.get().status, Status.VERIFYING)

    def test_it_lists_my_tasks_nearest_first(self):
        far = report(self.made, channel=Channel.HOTLINE, actor_key="otto", point=xy(0.1, 0.1))
        near = report(self.made, channel=Channel.HOTLINE, actor_key="otto", point=xy(1.9, 0.9))
        self.login("ivy")
        lon, lat = xy(1.95, 0.95)
        response = self.client.get("/cases/m/tasks/", {"lon": lon, "lat": lat})
        self.assertEqual([t["case"].pk for t in response.context["tasks"]], [near.pk, far.pk])
        self.assertContains(response, "按距离排序")
        lon, lat = xy(0.05, 0.05)
        response = self.client.get("/cases/m/tasks/", {"lon": lon, "lat": lat})
        self.assertEqual([t["case"].pk for t in response.context["tasks"]], [far.pk, near.pk])


class ScopeTests(ViewTestCase):
    """Wes works for the west street: the east street's cases do not exist for him."""

    def test_it_never_shows_another_streets_case(self):
        east = report(self.made)
        west = report(self.made, point=WEST_POINT)
        self.login("wes")
        response = self.client.get("/cases/", {"queue": "file"})
        self.assertEqual([c.pk for c in response.context["cases"]], [west.pk])
        self.assertNotContains(response, east.number)
        response = self.client.get("/cases/", {"queue": "file", "q": east.number})
        self.assertEqual(response.context["cases"], [])
        response = self.client.get("/cases/", {"queue": "file", "street": "360725100"})
        self.assertEqual(response.context["cases"], [])
        self.assertEqual(self.client.get(f"/cases/{east.pk}/").status_code, 404)
        self.assertEqual(self.client.get(f"/cases/m/{east.pk}/").status_code, 404)
        response = self.act(east, "file", "wes")
        self.assertEqual(response.status_code, 404)
        east.refresh_from_db()
        self.assertEqual(east.status, Status.PENDING_FILING)
        self.assertEqual({q["key"]: q["count"] for q in self.client.get("/cases/").context["queues"]}["file"], 1)

    def test_it_hides_another_units_case_from_a_handler(self):
        case = report(self.made)
        self.service(case, "file", "otto")
        self.service(case, "dispatch", "dora", unit_id=self.made["municipal"].pk)
        self.login("hugo")
        self.assertEqual(self.client.get(f"/cases/{case.pk}/").status_code, 404)
        self.assertEqual(self.client.get("/cases/", {"queue": "sign"}).context["cases"], [])
        self.assertEqual(self.act(case, "sign", "hugo").status_code, 404)

    def test_it_requires_login(self):
        response = self.client.get("/cases/")
        self.assertEqual(response.status_code, 302)
        self.assertIn("/accounts/login/", response["Location"])
