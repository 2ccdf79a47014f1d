"""Who is acting, from where: the context audit entries take their actor, IP and note from.

A request sets it (civicgrid.audit.middleware.AuditContextMiddleware); code outside a
request (management commands, imports, shells) has none, and entries then carry no actor
and, for a management command, the command's name as their note. A ContextVar, not a
thread-local, so each request (or task) sees only its own context.
"""

import ipaddress
import os
import sys
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.conf import settings

USER_AGENT_LENGTH = 200


@dataclass
class AuditContext:
    request: object | None = None
    actor: object | None = None  # set explicitly (audit_context); else the request's user
    note: str = ""
    request_id: str = ""


@dataclass
class Batch:
    """Counts of rows written under audit_suppressed: {model label: {action: n}}."""

    reasons: list[str] = field(default_factory=list)
    prefix: str = "批量导入"
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, model, action: str, n: int = 1) -> None:
        """Add `n` rows of `model` (a model class or "geo.Grid") written with `action` (create/update/delete)."""
        label = model if isinstance(model, str) else model._meta.label
        per_model = self.counts.setdefault(label, {})
        per_model[action] = per_model.get(action, 0) + n


current: ContextVar[AuditContext | None] = ContextVar("civicgrid_audit_context", default=None)
# Set while a bulk load runs: its rows are counted, not logged one by one.
suppressed: ContextVar[Batch | None] = ContextVar("civicgrid_audit_suppressed", default=None)


def new_request_id(request) -> str:
    # A proxy's request id is kept only when the proxy is trusted (same rule as the IP).
    if trusted_proxies() > 0:
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        if given and len(given) <= 64 and given.replace("-", "").isalnum():
            return given
    return uuid.uuid4().hex


def trusted_proxies() -> int:
    """How many reverse proxies in front of the app append to X-Forwarded-For (0: none, do not trust it)."""
    try:
        return max(int(getattr(settings, "CIVICGRID_TRUSTED_PROXIES", 0) or 0), 0)
    except (TypeError, ValueError):
        return 0


def _valid_ip(value: str) -> str | None:
    value = (value or "").strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or with N trusted proxies the N-th X-Forwarded-For hop from the right.

    Each trusted proxy appends the address it received the request from, so the right-most N
    entries were written by our own proxies; anything left of them is what the client claims
    and is ignored.
    """
    if request is None:
        return None
    meta = getattr(request, "META", {})
    n = trusted_proxies()
    if n:
        hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if hops:
            forwarded = _valid_ip(hops[-n] if len(hops) >= n else hops[0])
            if forwarded:
                return forwarded
    return _valid_ip(meta.get("REMOTE_ADDR", ""))


def user_agent(request) -> str:
    if request is None:
        return ""
    return getattr(request, "META", {}).get("HTTP_USER_AGENT", "")[:USER_AGENT_LENGTH]


def request_id(request) -> str:
    if request is None:
        return ""
    return getattr(request, "audit_request_id", "")


def request_user(request):
    """The authenticated user of a request, or None (never forces a lazy user to load without need)."""
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return user
    return None


def command_note() -> str:
    """'命令：demo' when running as `manage.py demo` or `python -m civicgrid demo`, else ''."""
    argv = sys.argv
    if len(argv) < 2 or argv[1].startswith("-"):
        return ""
    program = os.path.basename(argv[0])
    if program == "__main__.py":
        program = os.path.basename(os.path.dirname(argv[0]))
    if program in ("manage.py", "django-admin", "civicgrid"):
        return f"命令：{argv[1]}"
    return ""
