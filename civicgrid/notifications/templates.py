"""Message wording: the built-in defaults and the admin-edited MessageTemplate rows.

Templates use Django template syntax on a separate engine with no loaders and no extra tag
libraries, and see only the message's context (strings and numbers copied from the case),
so an edited template cannot reach a model, a file or a setting. A template that fails to
render is logged and the built-in default is used instead.
"""

from __future__ import annotations

import logging
from functools import cache

from django.conf import settings
from django.template import Context, Engine

from civicgrid.notifications.models import Kind, MessageTemplate

log = logging.getLogger(__name__)

# (subject, body) per language and kind. Citizen messages name no staff and no unit.
DEFAULTS: dict[str, dict[str, tuple[str, str]]] = {
    "zh-hans": {
        Kind.TASK: (
            "新任务：案件 {{ case_number }}",
            "案件 {{ case_number }}（{{ category }}，{{ address }}）现为“{{ status }}”，请及时处理。",
        ),
        Kind.REMIND: (
            "催办：案件 {{ case_number }}",
            "案件 {{ case_number }}（{{ category }}，{{ address }}）被催办（第 {{ remind_count }} 次），请尽快处理。",
        ),
        Kind.SUPERVISE: (
            "督办：案件 {{ case_number }}",
            "案件 {{ case_number }}（{{ category }}，{{ address }}）已被督办，请优先处理。",
        ),
        Kind.DEADLINE_YELLOW: (
            "临期：案件 {{ case_number }}",
            "案件 {{ case_number }} 的“{{ stage }}”环节将于 {{ deadline }} 到期，请抓紧处理。",
        ),
        Kind.DEADLINE_RED: (
            "超期：案件 {{ case_number }}",
            "案件 {{ case_number }} 的“{{ stage }}”环节已于 {{ deadline }} 超期，请立即处理。",
        ),
        Kind.CITIZEN_STATUS: (
            "您反映的问题有新进展",
            "您反映的问题（编号 {{ case_number }}）{{ public_status }}。感谢您对城市管理工作的支持。",
        ),
    },
    "en": {
        Kind.TASK: (
            "New task: case {{ case_number }}",
            "Case {{ case_number }} ({{ category }}, {{ address }}) is now “{{ status }}”. Please act on it.",
        ),
        Kind.REMIND: (
            "Reminder: case {{ case_number }}",
            "Case {{ case_number }} ({{ category }}, {{ address }}) was chased (reminder {{ remind_count }}). "
            "Please deal with it soon.",
        ),
        Kind.SUPERVISE: (
            "Supervised: case {{ case_number }}",
            "Case {{ case_number }} ({{ category }}, {{ address }}) is now supervised. Please give it priority.",
        ),
        Kind.DEADLINE_YELLOW: (
            "Due soon: case {{ case_number }}",
            "The “{{ stage }}” stage of case {{ case_number }} is due at {{ deadline }}.",
        ),
        Kind.DEADLINE_RED: (
            "Overdue: case {{ case_number }}",
            "The “{{ stage }}” stage of case {{ case_number }} was due at {{ deadline }} and is overdue.",
        ),
        Kind.CITIZEN_STATUS: (
            "News about the problem you reported",
            "The problem you reported (number {{ case_number }}) {{ public_status }}. Thank you.",
        ),
    },
}


@cache
def _engine() -> Engine:
    # No loaders ({% include %} and {% extends %} find nothing), no custom libraries, no
    # autoescape: the output is plain text for SMS and e-mail.
    return Engine(loaders=[("django.template.loaders.locmem.Loader", {})], libraries={}, autoescape=False)


def compile_template(source: str):
    return _engine().from_string(source)


def default_for(kind: str, language: str) -> tuple[str, str]:
    table = DEFAULTS.get(language) or DEFAULTS["zh-hans"]
    return table[kind]


def _render(source: str, context: dict) -> str:
    return compile_template(source).render(Context(context, autoescape=False)).strip()


def message_language() -> str:
    return settings.LANGUAGE_CODE if settings.LANGUAGE_CODE in DEFAULTS else "zh-hans"


def render(kind: str, channel: str, context: dict, language: str | None = None) -> tuple[str, str]:
    """(subject, body) of a message, from the admins' template if there is one."""
    language = language or message_language()
    default = default_for(kind, language)
    rows = {row.channel: row for row in MessageTemplate.objects.filter(key=kind, language=language)}
    if not rows:
        # Created on first use, so admins find every template the platform has sent.
        row, _created = MessageTemplate.objects.get_or_create(
            key=kind, channel="", language=language, defaults={"subject": default[0], "body": default[1]}
        )
        rows[""] = row
    row = rows.get(channel) or rows.get("")
    if row is not None:
        try:
            return _render(row.subject, context), _render(row.body, context)
        except Exception:
            log.exception("message template %s (%s, %s) failed; the built-in default is used", kind, channel, language)
    return _render(default[0], context), _render(default[1], context)
