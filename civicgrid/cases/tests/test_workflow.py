"""The transition table, checked against key paths written out by hand (standards.md §1.4)."""

from django.test import SimpleTestCase

from civicgrid.cases.workflow import (
    TERMINAL,
    TRANSITIONS,
    Action,
    Requirement,
    Stage,
    Status,
    TransitionRefused,
    actions_available,
    transition_for,
)
from civicgrid.core.models import Role

# The happy path of an inspector's report, by hand: (status, action, role) → next status.
HAPPY_PATH = [
    ("pending_filing", "file", "operator", "filed"),
    ("filed", "dispatch", "dispatcher", "dispatched"),
    ("dispatched", "sign", "handler", "processing"),
    ("processing", "handled", "handler", "checking"),
    ("checking", "check_pass", "inspector", "pending_close"),
    ("pending_close", "close", "shift_lead", "closed"),
]


class TransitionTableTests(SimpleTestCase):
    def test_it_walks_the_happy_path(self):
        for status, action, role, expected in HAPPY_PATH:
            with self.subTest(action=action):
                self.assertEqual(transition_for(status, action, role).target, expected)

    def test_it_sends_a_public_report_to_verification_then_filing(self):
        self.assertEqual(transition_for("verifying", "verify_confirm", "inspector").target, "pending_filing")

    def test_it_reworks_a_failed_check_and_counts_it(self):
        row = transition_for("checking", "check_fail", "inspector")
        self.assertEqual(row.target, "processing")
        self.assertIn("rework", row.counts)
        self.assertIn(Requirement.REASON, row.requires)
        self.assertEqual((row.ends, row.starts), (Stage.CHECK, Stage.HANDLE))

    def test_it_needs_the_shift_lead_to_void(self):
        self.assertEqual(transition_for("pending_filing", "request_void", "operator").target, "void_requested")
        with self.assertRaises(TransitionRefused) as refused:
            transition_for("void_requested", "approve_void", "operator")
        self.assertEqual(refused.exception.code, "wrong_role")
        self.assertEqual(transition_for("void_requested", "approve_void", "shift_lead").target, "voided")

    def test_it_pauses_the_clock_on_deferral_and_resumes_it(self):
        self.assertIs(transition_for("deferral_requested", "approve_deferral", "shift_lead").pauses, True)
        self.assertIs(transition_for("deferred", "resume", "shift_lead").resumes, True)

    def test_it_sends_an_approved_return_back_to_dispatch(self):
        row = transition_for("return_requested", "approve_return", "dispatcher")
        self.assertEqual(row.target, "filed")
        self.assertEqual(row.starts, Stage.DISPATCH)

    def test_it_requires_an_after_photo_to_report_handling(self):
        self.assertIn(Requirement.AFTER_PHOTO, transition_for("processing", "handled", "handler").requires)

    def test_it_refuses_a_wrong_status_in_chinese(self):
        with self.assertRaises(TransitionRefused) as refused:
            transition_for("closed", "dispatch", "dispatcher")
        self.assertEqual(refused.exception.code, "wrong_status")
        self.assertIn("已结案", refused.exception.message)

    def test_it_refuses_a_wrong_role(self):
        with self.assertRaises(TransitionRefused) as refused:
            transition_for("pending_filing", "file", "inspector")
        self.assertEqual(refused.exception.code, "wrong_role")

    def test_it_allows_nothing_on_a_terminal_case(self):
        for status in TERMINAL:
            for role in Role:
                self.assertEqual(actions_available(status, role), [], (status, role))

    def test_it_keeps_marks_from_changing_the_status(self):
        for action in (Action.SUPERVISE, Action.REMIND, Action.MARK_URGENT):
            self.assertIsNone(TRANSITIONS[action].target)

    def test_it_leaves_no_open_status_without_a_way_forward(self):
        movers = {s for row in TRANSITIONS.values() if row.target is not None for s in row.sources}
        self.assertEqual(set(Status) - set(TERMINAL) - movers, set())

    def test_it_reaches_every_status(self):
        reached = {row.target for row in TRANSITIONS.values() if row.target} | {"verifying", "pending_filing"}
        self.assertEqual(set(Status) - reached, {Status.SELF_HANDLED})  # entered on report, not by a transition
