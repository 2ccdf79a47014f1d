"""One document, two formats: GeoReport v2 XML and its JSON mapping.

A document is built from dicts (elements with children, in order), `Many` (a plural container
such as <services> holding <service> items) and scalars. XML: a declaration with
encoding="UTF-8", no namespace, empty elements for empty values. JSON: the spec's mechanical
mapping ("Spark convention"): a plural container becomes an array of its items, so
<services><service>… becomes [{…}, …] and <errors><error>… becomes [{code, description}];
empty values become null.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from xml.etree import ElementTree as ET

import orjson
from django.http import HttpResponse
from django.utils import timezone

XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
FORMATS = ("xml", "json")


@dataclass
class Many:
    """A plural container: `tag` in XML, its items each wrapped in `item_tag`; an array in JSON."""

    tag: str
    item_tag: str
    items: list
    # Clean: every empty value is None already and there is no datetime, at any depth, so the
    # JSON is the items as they are (no _jsonable pass: a page of 1,000 requests with their
    # notes holds some 60,000 values).
    clean: bool = False


def w3c(value: datetime | None) -> str | None:
    """A W3C datetime with the offset, in the server's time zone: 2026-11-30T09:30:00+08:00."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


# Characters XML 1.0 cannot carry, even escaped: one of them in any case's description would
# make every XML page it appears on unreadable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    return _NOT_XML.sub("", text)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return w3c(value)
    return xml_safe(str(value))


def _xml_fill(parent: ET.Element, value) -> None:
    if isinstance(value, Many):
        for item in value.items:
            _xml_fill(ET.SubElement(parent, value.item_tag), item)
    elif isinstance(value, dict):
        for key, child in value.items():
            if isinstance(child, Many):
                _xml_fill(ET.SubElement(parent, child.tag), child)
            else:
                _xml_fill(ET.SubElement(parent, key), child)
    else:
        parent.text = _text(value) or None


def to_xml(root_tag: str, document) -> bytes:
    root = ET.Element(root_tag)
    _xml_fill(root, document)
    # The declaration written out, with the double quotes of the spec's examples (ElementTree's
    # own uses single quotes).
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode").encode("utf-8")


_SCALARS = frozenset({int, float, bool, type(None)})


def _jsonable(value):
    # By exact type, and the scalars of a dict without a call each: a page of 1,000 requests
    # holds some 20,000 values.
    kind = type(value)
    if kind is dict:
        plain = {}
        for key, child in value.items():
            kind = type(child)
            if kind is str:
                plain[key] = child or None
            elif kind in _SCALARS:
                plain[key] = child
            else:
                plain[key] = _jsonable(child)
        return plain
    if kind is str:
        return value or None
    if kind is Many:
        return [_jsonable(item) for item in value.items]
    if isinstance(value, datetime):
        return w3c(value)
    if value == "":
        return None
    return value


def _items(value):
    if type(value) is Many:
        return value.items
    raise TypeError(f"{type(value).__name__} is not a document value")


def to_json(document) -> bytes:
    # orjson writes UTF-8 as json.dumps(ensure_ascii=False) would, ten times as fast (a page of
    # 1,000 requests: 13 ms → 1 ms).
    if type(document) is Many and document.clean:
        return orjson.dumps(document.items, default=_items, option=orjson.OPT_PASSTHROUGH_DATACLASS)
    return orjson.dumps(_jsonable(document))


def render(fmt: str, root_tag: str, document, status: int = 200, headers: dict | None = None) -> HttpResponse:
    """The response for `document`: `root_tag` names the XML root (for a Many, its container tag)."""
    if fmt == "json":
        response = HttpResponse(to_json(document), content_type=JSON_TYPE, status=status)
    else:
        response = HttpResponse(to_xml(root_tag, document), content_type=XML_TYPE, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def render_many(fmt: str, many: Many, status: int = 200, headers: dict | None = None) -> HttpResponse:
    return render(fmt, many.tag, many, status=status, headers=headers)


def errors(fmt: str, status: int, *problems: tuple[int, str] | str, headers: dict | None = None) -> HttpResponse:
    """The spec's error body: errors → error items of code and description (JSON: an array)."""
    items = []
    for problem in problems:
        code, description = problem if isinstance(problem, tuple) else (status, problem)
        items.append({"code": code, "description": description})
    return render_many(fmt, Many("errors", "error", items), status=status, headers=headers)
