"""core.inserts.insert writes exactly the row Model.save(force_insert=True) writes."""

from django.test import TestCase

from civicgrid.cases.models import Case, CaseEvent, CaseStage
from civicgrid.cases.tests.fixtures import build_people, report
from civicgrid.core.inserts import insert


def copy_of(obj, **changes):
    """An unsaved copy of a row, every concrete field but the primary key."""
    values = {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if not f.primary_key}
    return type(obj)(**{**values, **changes})


def stored(model, pk) -> dict:
    row = model.objects.filter(pk=pk).values().get()
    row.pop("id")
    return row


class InsertTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_people()
        cls.case = report(cls.made, reporter_phone="13812345678")

    def assertSameRow(self, model, saved, inserted, ignore=()):
        a, b = stored(model, saved.pk), stored(model, inserted.pk)
        for name in ignore:
            a.pop(name), b.pop(name)
        self.assertEqual(a, b)

    def test_a_case_stage_and_event_are_written_as_save_writes_them(self):
        by_save = copy_of(self.case, number="X-1")
        by_save.save(force_insert=True)
        by_insert = insert(copy_of(self.case, number="X-2"))
        self.assertIsNotNone(by_insert.pk)
        self.assertFalse(by_insert._state.adding)
        # updated_at is auto_now: set by each write at its own instant.
        self.assertSameRow(Case, by_save, by_insert, ignore=("number", "updated_at"))

        stage = self.case.stages.get()
        one, two = copy_of(stage, case_id=by_save.pk), copy_of(stage, case_id=by_save.pk)
        one.save(force_insert=True)
        self.assertSameRow(CaseStage, one, insert(two))

        event = CaseEvent(case=by_save, action="report", to_status="filed", data={"channel": "hotline", "n": [1, 2]})
        twin = copy_of(event)
        event.save(force_insert=True)
        self.assertSameRow(CaseEvent, event, insert(twin))
        self.assertEqual(CaseEvent.objects.get(pk=twin.pk).data, {"channel": "hotline", "n": [1, 2]})
