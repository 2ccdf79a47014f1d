"""The audit log's signal receivers: logins, and the change history of reference data.

STYLE rule 5 allows one documented receiver set for the generic change history of reference
data; this is it (NetBox's handle_changed_object, made to work outside requests too). It
records saves, deletes and many-to-many changes of the models in TRACKED:

- pre_save reads the row's current values (one SELECT, skipped for new rows and for saves
  whose update_fields are all excluded, such as the login's last_login);
- post_save writes "create" with the new values or "update" with {field: [old, new]} for the
  fields that changed (nothing when none did);
- post_delete writes "delete" with the values the object had;
- m2m_changed writes "update" with {field: [old ids, new ids]}.

Entries are written by the receivers, inside the save's transaction: a change rolled back
rolls its entry back with it. The actor and IP come from civicgrid.audit.context (set per
request by AuditContextMiddleware); outside a request the actor is None. Inside
audit_suppressed the receivers only count rows. Not seen: QuerySet.update(), bulk_create(),
bulk_update() and raw SQL, which send no signals (loaders using them count their rows in the
audit_suppressed batch), and fixture loading (raw saves).
"""

import datetime
import hashlib
import json
import math
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.exceptions import ValidationError
from django.db.models import signals
from django.db.models.fields.files import FieldFile

from civicgrid.audit import context
from civicgrid.audit.models import AuditEntry
from civicgrid.audit.services import audit_write

MASK = "***"


@dataclass
class Tracked:
    """How one model is logged. auto_now fields and the primary key are always left out."""

    exclude: frozenset[str] = frozenset()
    # GeoJSON columns logged as {type, sha256, bbox, points}, not in full (keeps the log small).
    geometry: frozenset[str] = frozenset()
    # Logged as changed or not, never with a value.
    masked: frozenset[str] = frozenset()
    # Filled in by connect(): the concrete fields logged.
    fields: tuple = ()


_GRID_DERIVED = {"min_lon", "min_lat", "max_lon", "max_lat", "centroid_lon", "centroid_lat"}

TRACKED: dict[str, Tracked] = {
    "geo.Region": Tracked(geometry=frozenset({"boundary"})),
    # The bounding box and centroid follow from the geometry, whose summary carries the bbox.
    "geo.Grid": Tracked(exclude=frozenset(_GRID_DERIVED), geometry=frozenset({"geometry"})),
    "geo.ResponsibilityGrid": Tracked(),
    # reference_values is the catalogue loader's bookkeeping, not data anyone edits.
    "catalog.Category": Tracked(exclude=frozenset({"reference_values"})),
    "catalog.CategoryCode": Tracked(),
    "catalog.StageTimeLimit": Tracked(exclude=frozenset({"reference_values"})),
    "core.OrgUnit": Tracked(),
    # last_login changes at every login (the login entry records that); the password hash
    # is never logged, only the fact that it changed.
    "core.User": Tracked(exclude=frozenset({"last_login"}), masked=frozenset({"password"})),
    "workcalendar.CalendarDay": Tracked(),
    "workcalendar.WorkSchedule": Tracked(),
    # Open311 apps: issuing or replacing a key is logged as a change of its digest, never
    # with a value (the key itself is never stored).
    "open311.App": Tracked(masked=frozenset({"key_hash"})),
    "open311.ServiceAttribute": Tracked(),
    # The wording of notifications, edited by admins.
    "notifications.MessageTemplate": Tracked(),
}

# Filled by connect(): model class -> Tracked, and m2m through model -> (model, field).
_by_model: dict[type, Tracked] = {}
_by_through: dict[type, tuple[type, object]] = {}


#
# Values
#


def plain(value):
    """A JSON-safe, comparable form of a field value."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value.is_finite() else str(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC)
        return value.isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, bytes | memoryview):
        return f"<{len(value)} bytes>"
    return str(value)


def geometry_summary(value) -> dict | None:
    """{type, sha256 (first 16 hex digits), bbox [min lon, min lat, max lon, max lat], points} of a GeoJSON value."""
    if value is None:
        return None
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    xs, ys = [], []

    def walk(node):
        if isinstance(node, list | tuple):
            if len(node) >= 2 and all(isinstance(c, int | float) and not isinstance(c, bool) for c in node[:2]):
                xs.append(node[0])
                ys.append(node[1])
            else:
                for child in node:
                    walk(child)

    if isinstance(value, dict):
        walk(value.get("coordinates"))
    summary = {
        "type": value.get("type") if isinstance(value, dict) else type(value).__name__,
        "sha256": hashlib.sha256(text.encode()).hexdigest()[:16],
        "points": len(xs),
    }
    if xs:
        summary["bbox"] = [round(min(xs), 6), round(min(ys), 6), round(max(xs), 6), round(max(ys), 6)]
    return summary


def _logged(spec: Tracked, f, value):
    if f.name in spec.geometry:
        return geometry_summary(value)
    return plain(value)


def _normalised(f, value):
    # An unsaved instance holds what code assigned (6 for 6.00, "2026-01-01" for a date):
    # the field's own conversion makes it compare equal to the value read from the database.
    try:
        return f.to_python(value)
    except (ValidationError, TypeError, ValueError):
        return value


def _fields_to_read(spec: Tracked, update_fields) -> list:
    if update_fields is None:
        return list(spec.fields)
    return [f for f in spec.fields if f.name in update_fields or f.attname in update_fields]


def snapshot(spec: Tracked, instance) -> dict:
    """The logged fields of an instance as stored in a create or delete entry."""
    return {
        f.name: _logged(spec, f, _normalised(f, f.value_from_object(instance)))
        for f in spec.fields
        if f.name not in spec.masked
    }


#
# Change receivers
#


def _before_save(sender, instance, raw=False, using=None, update_fields=None, **kwargs):
    # Drop what an earlier, failed save of this instance may have left behind.
    instance.__dict__.pop("_audit_before", None)
    spec = _by_model.get(sender)
    if spec is None or raw or instance.pk is None or context.suppressed.get() is not None:
        return
    fields = _fields_to_read(spec, update_fields)
    if not fields:
        return
    row = sender._base_manager.using(using).filter(pk=instance.pk).values(*[f.attname for f in fields]).first()
    if row is not None:
        instance.__dict__["_audit_before"] = (fields, row)


def _after_save(sender, instance, created, raw=False, using=None, update_fields=None, **kwargs):
    spec = _by_model.get(sender)
    if spec is None or raw:
        return
    before = instance.__dict__.pop("_audit_before", None)
    batch = context.suppressed.get()
    if batch is not None:
        if created or _fields_to_read(spec, update_fields):
            batch.count(sender._meta.label, "create" if created else "update")
        return
    if created:
        audit_write(
            kind=AuditEntry.Kind.CHANGE, obj=instance, action=AuditEntry.Action.CREATE, changes=snapshot(spec, instance)
        )
        return
    if before is None:
        return  # only excluded fields were saved
    fields, row = before
    changes = {}
    for f in fields:
        old = _normalised(f, row[f.attname])
        new = _normalised(f, f.value_from_object(instance))
        old, new = _logged(spec, f, old), _logged(spec, f, new)
        if old != new:
            changes[f.name] = [MASK, MASK] if f.name in spec.masked else [old, new]
    if changes:
        audit_write(kind=AuditEntry.Kind.CHANGE, obj=instance, action=AuditEntry.Action.UPDATE, changes=changes)


def _after_delete(sender, instance, using=None, **kwargs):
    spec = _by_model.get(sender)
    if spec is None:
        return
    batch = context.suppressed.get()
    if batch is not None:
        batch.count(sender._meta.label, "delete")
        return
    audit_write(
        kind=AuditEntry.Kind.CHANGE, obj=instance, action=AuditEntry.Action.DELETE, changes=snapshot(spec, instance)
    )


def _m2m_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    owner, m2m = _by_through.get(sender, (None, None))
    if owner is None or type(instance) not in _by_model:
        return  # e.g. a group's users changed from the group's side
    name = m2m.remote_field.get_accessor_name() if reverse else m2m.name
    phase, _sep, verb = action.partition("_")
    batch = context.suppressed.get()
    if phase == "pre":
        instance.__dict__.get("_audit_m2m", {}).pop(name, None)
        if batch is None and (verb == "clear" or pk_set):
            old = set(getattr(instance, name).values_list("pk", flat=True))
            instance.__dict__.setdefault("_audit_m2m", {})[name] = old
        return
    if batch is not None:
        batch.count(type(instance)._meta.label, "update")
        return
    old = instance.__dict__.get("_audit_m2m", {}).pop(name, None)
    if old is None:
        return
    if verb == "add":
        new = old | set(pk_set or ())
    elif verb == "remove":
        new = old - set(pk_set or ())
    else:
        new = set()
    if new != old:
        changes = {name: [plain(sorted(old)), plain(sorted(new))]}
        audit_write(kind=AuditEntry.Kind.CHANGE, obj=instance, action=AuditEntry.Action.UPDATE, changes=changes)


#
# Login receivers
#


def _logged_in(sender, request=None, user=None, **kwargs):
    audit_write(kind=AuditEntry.Kind.LOGIN, actor=user, request=request)


def _logged_out(sender, request=None, user=None, **kwargs):
    if user is not None:
        audit_write(kind=AuditEntry.Kind.LOGOUT, actor=user, request=request)


def _login_failed(sender, credentials=None, request=None, **kwargs):
    # Only the name that was tried: Django has already masked the password in `credentials`,
    # and it is not read here at all.
    credentials = credentials or {}
    username = credentials.get(get_user_model().USERNAME_FIELD) or credentials.get("username") or ""
    audit_write(kind=AuditEntry.Kind.LOGIN_FAILED, actor=None, actor_label=str(username), request=request)


def connect() -> None:
    """Connect every receiver once (AuditConfig.ready)."""
    for label, spec in TRACKED.items():
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        fields = tuple(
            f
            for f in model._meta.concrete_fields
            if not f.primary_key and f.name not in spec.exclude and not getattr(f, "auto_now", False)
        )
        spec.fields = fields
        _by_model[model] = spec
        uid = f"civicgrid.audit.{label}"
        signals.pre_save.connect(_before_save, sender=model, dispatch_uid=f"{uid}.pre_save")
        signals.post_save.connect(_after_save, sender=model, dispatch_uid=f"{uid}.post_save")
        signals.post_delete.connect(_after_delete, sender=model, dispatch_uid=f"{uid}.post_delete")
        for m2m in model._meta.local_many_to_many:
            through = m2m.remote_field.through
            _by_through[through] = (model, m2m)
            signals.m2m_changed.connect(_m2m_changed, sender=through, dispatch_uid=f"{uid}.{m2m.name}.m2m")
    user_logged_in.connect(_logged_in, dispatch_uid="civicgrid.audit.logged_in")
    user_logged_out.connect(_logged_out, dispatch_uid="civicgrid.audit.logged_out")
    user_login_failed.connect(_login_failed, dispatch_uid="civicgrid.audit.login_failed")
