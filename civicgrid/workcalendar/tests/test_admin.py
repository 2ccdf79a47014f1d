from django.contrib.auth import get_user_model
from django.test import TestCase

from civicgrid.workcalendar.models import CalendarDay, WorkSchedule
from civicgrid.workcalendar.selectors import get_calendar


class CalendarAdminTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        # Alice is the bureau's system administrator: she enters next year's holidays.
        cls.alice = get_user_model().objects.create_superuser("alice", "alice@example.com", "password")

    def setUp(self):
        self.client.force_login(self.alice)

    def test_it_lists_days_and_schedules(self):
        CalendarDay.objects.create(date="2027-02-06", kind=CalendarDay.Kind.HOLIDAY, name="春节")
        response = self.client.get("/admin/workcalendar/calendarday/")
        self.assertContains(response, "春节")
        self.assertContains(response, "星期六")
        self.assertEqual(self.client.get("/admin/workcalendar/workschedule/").status_code, 200)

    def test_it_adds_a_day_of_next_year(self):
        form = {"date": "2027-02-08", "kind": "holiday", "name": "春节", "note": ""}
        response = self.client.post("/admin/workcalendar/calendarday/add/", form)
        self.assertEqual(response.status_code, 302)
        self.assertTrue(get_calendar().is_year_complete(2027))

    def test_it_explains_bad_windows_in_chinese(self):
        response = self.client.post(
            "/admin/workcalendar/workschedule/add/",
            {"name": "夏季作息", "season_start": "05-01", "season_end": "09-30", "windows": '[["08:00", "7:00"]]'},
        )
        self.assertContains(response, "时间必须写成 HH:MM")
        self.assertFalse(WorkSchedule.objects.exists())
