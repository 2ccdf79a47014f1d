"""The closed loop's transition table: status × action → next status.

This module is the single source of truth for what may happen to a case: which action is
allowed in which status, by which role, what it requires, and what it does to the stage
clocks. The service that applies a transition (cases.services.case_act) reads it; views,
the API, Open311 and imports call that service and never set a status themselves.

Statuses follow standards.md §1.4; the stage clocks are the six stages of a category's
time limits (catalog.StageTimeLimit.Stage): verify, file, dispatch, handle, check, close.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from civicgrid.catalog.models import Stage
from civicgrid.core.models import Role


class Status(models.TextChoices):
    VERIFYING = "verifying", _("待核实")
    PENDING_FILING = "pending_filing", _("待立案")
    VOID_REQUESTED = "void_requested", _("作废待审批")
    FILED = "filed", _("待派遣")
    DISPATCHED = "dispatched", _("待签收")
    PROCESSING = "processing", _("处置中")
    RETURN_REQUESTED = "return_requested", _("回退待审批")
    EXTENSION_REQUESTED = "extension_requested", _("延期待审批")
    DEFERRAL_REQUESTED = "deferral_requested", _("缓办待审批")
    DEFERRED = "deferred", _("缓办中")
    CHECKING = "checking", _("待核查")
    PENDING_CLOSE = "pending_close", _("待结案")
    SELF_HANDLED = "self_handled", _("自处理待审核")
    CLOSED = "closed", _("已结案")
    # A reporter rated the closed case 不满意: it waits for the shift lead's review (复核).
    REVIEW = "review", _("不满意待复核")
    REJECTED = "rejected", _("不予立案")
    VOIDED = "voided", _("已作废")
    MERGED = "merged", _("已合并")


TERMINAL = frozenset({Status.CLOSED, Status.REJECTED, Status.VOIDED, Status.MERGED})


class Action(models.TextChoices):
    VERIFY_CONFIRM = "verify_confirm", _("核实属实")
    VERIFY_DENY = "verify_deny", _("核实不属实")
    FILE = "file", _("立案")
    # The same Chinese words name a status and a queue; the context lets English say "Reject".
    REJECT = "reject", pgettext_lazy("case action", "不予立案")
    REQUEST_VOID = "request_void", _("申请作废")
    APPROVE_VOID = "approve_void", _("同意作废")
    REFUSE_VOID = "refuse_void", _("不同意作废")
    DISPATCH = "dispatch", _("派遣")
    SIGN = "sign", _("签收")
    REQUEST_RETURN = "request_return", _("申请回退")
    APPROVE_RETURN = "approve_return", _("同意回退")
    REFUSE_RETURN = "refuse_return", _("不同意回退")
    REQUEST_EXTENSION = "request_extension", _("申请延期")
    APPROVE_EXTENSION = "approve_extension", _("同意延期")
    REFUSE_EXTENSION = "refuse_extension", _("不同意延期")
    REQUEST_DEFERRAL = "request_deferral", _("申请缓办")
    APPROVE_DEFERRAL = "approve_deferral", _("同意缓办")
    REFUSE_DEFERRAL = "refuse_deferral", _("不同意缓办")
    RESUME = "resume", _("恢复处置")
    HANDLED = "handled", _("处置反馈")
    CHECK_PASS = "check_pass", _("核查通过")
    CHECK_FAIL = "check_fail", _("核查不通过（返工）")
    CLOSE = "close", _("结案")
    APPROVE_SELF_HANDLED = "approve_self_handled", _("自处理审核通过")
    REFUSE_SELF_HANDLED = "refuse_self_handled", _("自处理审核不通过")
    MERGE = "merge", _("合并为重复案件")
    SUPERVISE = "supervise", pgettext_lazy("case action", "督办")
    REMIND = "remind", _("催办")
    MARK_URGENT = "mark_urgent", _("标记紧急")
    # The public's 不满意 on a closed case and the shift lead's review of it.
    DISSATISFIED = "dissatisfied", _("群众评价不满意")
    REOPEN = "reopen", _("重新办理")
    KEEP_CLOSED = "keep_closed", _("维持结案并答复")


class Requirement(StrEnum):
    REASON = "reason"  # a written reason (note)
    AFTER_PHOTO = "after_photo"  # at least one after-photo attached
    UNIT = "unit"  # a handling unit
    AMOUNT = "amount"  # an amount of time (extension)
    DUPLICATE_OF = "duplicate_of"  # the case this one duplicates


@dataclass(frozen=True)
class Transition:
    """One row of the table."""

    action: Action
    sources: frozenset[Status]
    target: Status | None  # None: the status does not change (flags such as 督办)
    roles: frozenset[Role]
    requires: frozenset[Requirement] = frozenset()
    ends: Stage | None = None  # the stage clock this action stops
    starts: Stage | None = None  # the stage clock this action starts
    pauses: bool = False  # the running clock stops counting (deferral)
    resumes: bool = False  # the paused clock counts again
    counts: tuple[str, ...] = field(default=())  # counters it increments (rework, extension, return)
    # A refusal that sends the case back to the status the request was made from (a void
    # requested from 待派遣 and refused goes back to 待派遣); `target` is the usual case.
    back: bool = False


def _t(action, sources, target, roles, **kwargs) -> Transition:
    return Transition(action, frozenset(sources), target, frozenset(roles), **kwargs)


S, A, R, Q = Status, Action, Role, Requirement
OPEN = frozenset(Status) - TERMINAL
CENTER = {R.OPERATOR, R.SHIFT_LEAD, R.DISPATCHER}

TRANSITIONS: dict[Action, Transition] = {
    t.action: t
    for t in [
        # 核实: a report from a channel other than an inspector is verified on site.
        _t(A.VERIFY_CONFIRM, {S.VERIFYING}, S.PENDING_FILING, {R.INSPECTOR}, ends=Stage.VERIFY, starts=Stage.FILE),
        _t(
            A.VERIFY_DENY,
            {S.VERIFYING},
            S.PENDING_FILING,
            {R.INSPECTOR},
            requires={Q.REASON},
            ends=Stage.VERIFY,
            starts=Stage.FILE,
        ),
        # 立案 / 不予立案 / 作废 (voiding needs the shift lead's approval).
        _t(A.FILE, {S.PENDING_FILING}, S.FILED, {R.OPERATOR, R.SHIFT_LEAD}, ends=Stage.FILE, starts=Stage.DISPATCH),
        _t(A.REJECT, {S.PENDING_FILING}, S.REJECTED, {R.OPERATOR, R.SHIFT_LEAD}, requires={Q.REASON}, ends=Stage.FILE),
        _t(
            A.REQUEST_VOID,
            {S.PENDING_FILING, S.FILED},
            S.VOID_REQUESTED,
            {R.OPERATOR, R.DISPATCHER},
            requires={Q.REASON},
        ),
        _t(A.APPROVE_VOID, {S.VOID_REQUESTED}, S.VOIDED, {R.SHIFT_LEAD}),
        _t(A.REFUSE_VOID, {S.VOID_REQUESTED}, S.PENDING_FILING, {R.SHIFT_LEAD}, requires={Q.REASON}, back=True),
        # 派遣 / 签收.
        _t(
            A.DISPATCH,
            {S.FILED},
            S.DISPATCHED,
            {R.DISPATCHER},
            requires={Q.UNIT},
            ends=Stage.DISPATCH,
            starts=Stage.HANDLE,
        ),
        _t(A.SIGN, {S.DISPATCHED}, S.PROCESSING, {R.HANDLER}),
        # 回退: the unit asks, the dispatcher decides.
        _t(A.REQUEST_RETURN, {S.DISPATCHED, S.PROCESSING}, S.RETURN_REQUESTED, {R.HANDLER}, requires={Q.REASON}),
        _t(
            A.APPROVE_RETURN,
            {S.RETURN_REQUESTED},
            S.FILED,
            {R.DISPATCHER},
            ends=Stage.HANDLE,
            starts=Stage.DISPATCH,
            counts=("return",),
        ),
        _t(A.REFUSE_RETURN, {S.RETURN_REQUESTED}, S.PROCESSING, {R.DISPATCHER}, requires={Q.REASON}, back=True),
        # 延期: approval moves the handling deadline by the granted amount.
        _t(A.REQUEST_EXTENSION, {S.PROCESSING}, S.EXTENSION_REQUESTED, {R.HANDLER}, requires={Q.REASON, Q.AMOUNT}),
        _t(A.APPROVE_EXTENSION, {S.EXTENSION_REQUESTED}, S.PROCESSING, {R.SHIFT_LEAD}, counts=("extension",)),
        _t(A.REFUSE_EXTENSION, {S.EXTENSION_REQUESTED}, S.PROCESSING, {R.SHIFT_LEAD}, requires={Q.REASON}),
        # 缓办/挂账: the clock stops while deferred; the case leaves the should-close count.
        _t(A.REQUEST_DEFERRAL, {S.PROCESSING}, S.DEFERRAL_REQUESTED, {R.HANDLER}, requires={Q.REASON}),
        _t(A.APPROVE_DEFERRAL, {S.DEFERRAL_REQUESTED}, S.DEFERRED, {R.SHIFT_LEAD}, pauses=True, counts=("deferral",)),
        _t(A.REFUSE_DEFERRAL, {S.DEFERRAL_REQUESTED}, S.PROCESSING, {R.SHIFT_LEAD}, requires={Q.REASON}),
        _t(A.RESUME, {S.DEFERRED}, S.PROCESSING, {R.SHIFT_LEAD, R.HANDLER}, resumes=True),
        # 处置反馈 → 核查 → 结案, or 返工.
        _t(
            A.HANDLED,
            {S.PROCESSING},
            S.CHECKING,
            {R.HANDLER},
            requires={Q.AFTER_PHOTO},
            ends=Stage.HANDLE,
            starts=Stage.CHECK,
        ),
        _t(A.CHECK_PASS, {S.CHECKING}, S.PENDING_CLOSE, {R.INSPECTOR}, ends=Stage.CHECK, starts=Stage.CLOSE),
        _t(
            A.CHECK_FAIL,
            {S.CHECKING},
            S.PROCESSING,
            {R.INSPECTOR},
            requires={Q.REASON},
            ends=Stage.CHECK,
            starts=Stage.HANDLE,
            counts=("rework",),
        ),
        _t(A.CLOSE, {S.PENDING_CLOSE}, S.CLOSED, {R.SHIFT_LEAD}, ends=Stage.CLOSE),
        # 自处理: the inspector fixed a minor problem on the spot; the center reviews it.
        _t(A.APPROVE_SELF_HANDLED, {S.SELF_HANDLED}, S.CLOSED, {R.OPERATOR, R.SHIFT_LEAD}, ends=Stage.CLOSE),
        _t(
            A.REFUSE_SELF_HANDLED,
            {S.SELF_HANDLED},
            S.PENDING_FILING,
            {R.OPERATOR, R.SHIFT_LEAD},
            requires={Q.REASON},
            ends=Stage.CLOSE,
            starts=Stage.FILE,
        ),
        # 合并: a duplicate closes with a link to the case it duplicates.
        _t(A.MERGE, {S.VERIFYING, S.PENDING_FILING}, S.MERGED, {R.OPERATOR, R.SHIFT_LEAD}, requires={Q.DUPLICATE_OF}),
        # 不满意复核: a reporter's 不满意 (portal rating or 12345 回访) reopens the closed case for
        # the shift lead, who sends it back to a unit (counted) or keeps it closed with a written
        # reply to the reporter. No staff role rates: cases.services.case_rate applies that row.
        _t(A.DISSATISFIED, {S.CLOSED}, S.REVIEW, set(), starts=Stage.CLOSE),
        _t(
            A.REOPEN,
            {S.REVIEW},
            S.DISPATCHED,
            {R.SHIFT_LEAD},
            requires={Q.UNIT},
            ends=Stage.CLOSE,
            starts=Stage.HANDLE,
            counts=("reopen",),
        ),
        _t(A.KEEP_CLOSED, {S.REVIEW}, S.CLOSED, {R.SHIFT_LEAD}, requires={Q.REASON}, ends=Stage.CLOSE),
        # 督办 / 催办 / 紧急: marks on an open case; the status does not change.
        _t(A.SUPERVISE, OPEN, None, {R.LEADER, R.SHIFT_LEAD}, requires={Q.REASON}, counts=("supervise",)),
        _t(A.REMIND, OPEN, None, CENTER | {R.LEADER}, counts=("remind",)),
        _t(A.MARK_URGENT, OPEN, None, {R.OPERATOR, R.SHIFT_LEAD, R.LEADER}),
    ]
}


class TransitionRefused(Exception):
    """An action that the table does not allow; `code` says why (status or role)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def transition_for(status: Status | str, action: Action | str, role: Role | str) -> Transition:
    """The table row for this action, or TransitionRefused saying why not (in the active language)."""
    try:
        row = TRANSITIONS[Action(action)]
    except ValueError as exc:
        raise TransitionRefused("unknown_action", gettext("未知的操作：%(action)s") % {"action": action}) from exc
    if Status(status) not in row.sources:
        raise TransitionRefused(
            "wrong_status",
            gettext("案件当前状态为“%(status)s”，不能执行“%(action)s”。")
            % {"status": Status(status).label, "action": row.action.label},
        )
    if Role(role) not in row.roles:
        raise TransitionRefused(
            "wrong_role",
            gettext("角色“%(role)s”无权执行“%(action)s”。") % {"role": Role(role).label, "action": row.action.label},
        )
    return row


def actions_available(status: Status | str, role: Role | str) -> list[Action]:
    """The actions this role may take on a case in this status, in table order."""
    return [a for a, row in TRANSITIONS.items() if Status(status) in row.sources and Role(role) in row.roles]
