"""Writing audit entries: the services other apps call, and the bulk-load switch.

- audit_contact_view(actor=, obj=, request=None, note="") when someone opens a reporter's
  contact details;
- audit_export(actor=, what=, request=None, note="") when someone exports data;
- audit_suppressed(reason) around a bulk load: one summary entry instead of one per row;
- audit_context(actor=None, note="") to name the actor or the job outside a request.

Entries are plain inserts on the default connection: inside a caller's transaction they
commit or roll back with it.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from civicgrid.audit import context
from civicgrid.audit.models import AuditEntry

REPR_LENGTH = 200
_FROM_CONTEXT = object()


def actor_name(user) -> str:
    """'张三（zhangsan）', or the username alone when the user has no other name."""
    if user is None:
        return ""
    username = user.get_username()
    shown = str(user)
    return (shown if shown == username else f"{shown}（{username}）")[:200]


def object_repr(obj) -> str:
    try:
        text = str(obj)
    except Exception:  # a repr needing a row that is gone must not stop the change
        text = f"{obj._meta.verbose_name} #{obj.pk}"
    return text[:REPR_LENGTH]


def audit_write(
    *,
    kind: str,
    actor=_FROM_CONTEXT,
    actor_label: str | None = None,
    obj=None,
    object_label: str = "",
    action: str = "",
    changes: dict | None = None,
    request=None,
    note: str = "",
) -> AuditEntry:
    """Insert one entry; actor, IP, user agent and request id default to the current context.

    The context's note (or, outside a request, the management command's name) is added to `note`.
    """
    ctx = context.current.get()
    if request is None and ctx is not None:
        request = ctx.request
    if actor is _FROM_CONTEXT:
        actor = (ctx.actor if ctx is not None else None) or context.request_user(request)
    context_note = (ctx.note if ctx is not None else "") or ("" if request is not None else context.command_note())
    # str(): callers may pass lazy translations (gettext_lazy).
    note = "；".join(str(part) for part in (note, context_note) if part)
    entry = AuditEntry(
        kind=kind,
        actor=actor,
        actor_name=actor_name(actor) if actor_label is None else str(actor_label)[:200],
        action=action,
        changes=changes or {},
        ip=context.client_ip(request),
        user_agent=context.user_agent(request),
        request_id=context.request_id(request) or (ctx.request_id if ctx is not None else ""),
        object_repr=str(object_label)[:REPR_LENGTH],
        note=note,
    )
    if obj is not None:
        entry.content_type = ContentType.objects.get_for_model(obj)
        entry.object_id = str(obj.pk if obj.pk is not None else "")
        entry.object_repr = object_repr(obj)
    entry.save(force_insert=True)
    return entry


def audit_contact_view(*, actor, obj, request=None, note: str = "") -> AuditEntry:
    """Record that `actor` was shown the contact details (phone number) on `obj`, e.g. a case's reporter."""
    return audit_write(kind=AuditEntry.Kind.CONTACT_VIEW, actor=actor, obj=obj, request=request, note=note)


def audit_export(*, actor, what: str, request=None, note: str = "") -> AuditEntry:
    """Record that `actor` exported `what` (e.g. "部件事件分类（Excel）")."""
    # There is no single object: the object column names what was exported.
    return audit_write(kind=AuditEntry.Kind.EXPORT, actor=actor, object_label=what, request=request, note=note)


@contextmanager
def audit_context(*, actor=None, note: str = "") -> Iterator[None]:
    """Name the actor and/or a note for entries written inside the block (commands, jobs, imports).

    Inside a request the request's IP and id are kept; `actor` replaces the request's user.
    """
    outer = context.current.get()
    token = context.current.set(
        context.AuditContext(
            request=outer.request if outer else None,
            actor=actor or (outer.actor if outer else None),
            note=note or (outer.note if outer else ""),
            request_id=outer.request_id if outer else "",
        )
    )
    try:
        yield
    finally:
        context.current.reset(token)


@contextmanager
def audit_suppressed(reason: str, *, prefix: str = "批量导入") -> Iterator[context.Batch]:
    """Run a bulk load with ONE summary entry ("批量导入：<reason>") instead of an entry per row.

    `prefix` names other bulk writes, e.g. prefix="批量修改" for an admin action that updates
    many rows with QuerySet.update().

    The block runs in a transaction (a savepoint when one is open already) and the summary is
    written inside it, so the summary commits or rolls back with the rows; after an exception
    nothing is written. Rows saved through the ORM are counted per model and action; a loader
    that writes with bulk_create/bulk_update/update() (which send no signals) adds its own
    counts with ``batch.count("geo.Grid", "create", n)``. Nested blocks join the outermost one,
    whose single summary lists every reason.
    """
    outer = context.suppressed.get()
    if outer is not None:
        outer.reasons.append(reason)
        yield outer
        return
    batch = context.Batch(reasons=[reason], prefix=prefix)
    with transaction.atomic():
        token = context.suppressed.set(batch)
        try:
            yield batch
        finally:
            context.suppressed.reset(token)
        note = f"{batch.prefix}：{batch.reasons[0]}"
        if len(batch.reasons) > 1:
            note += "（含：" + "、".join(batch.reasons[1:]) + "）"
        audit_write(kind=AuditEntry.Kind.CHANGE, action=AuditEntry.Action.BULK, changes=batch.counts, note=note)
