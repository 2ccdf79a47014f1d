"""A GeoReport v2 client written from the specification alone.

It knows nothing of the server's code: only HTTP (urllib), XML (xml.etree) and JSON. It reads
both formats into the same Python shape, following the spec's mapping: a plural container
element (<services>, <service_requests>, <attributes>, <values>, <errors>, <endpoints>,
<formats>, <notes>) is a list of its items; any other element with children is a dict; a leaf
is its text, or None when empty. JSON scalars are turned into the text XML would carry
(true → "true", 25.67 → "25.67"), so that `client.get(...)` answers the same in both formats.
"""

from __future__ import annotations

import json
import mimetypes
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from xml.etree import ElementTree as ET

CONTAINERS = frozenset(
    {
        "services",
        "service_requests",
        "attributes",
        "values",
        "errors",
        "endpoints",
        "formats",
        "notes",
        "media_urls",
    }
)


@dataclass
class Response:
    status: int
    content_type: str
    raw: bytes
    headers: dict
    data: object  # the document in the common shape

    @property
    def errors(self) -> list[dict]:
        """The spec's error list ([{code, description}]) when the answer is one, else []."""
        if isinstance(self.data, list) and self.data and isinstance(self.data[0], dict) and "code" in self.data[0]:
            if set(self.data[0]) == {"code", "description"}:
                return self.data
        return []


class Open311Error(Exception):
    pass


def _element(node: ET.Element):
    children = list(node)
    if node.tag in CONTAINERS:
        return [_element(child) for child in children]
    if not children:
        return node.text if node.text not in (None, "") else None
    return {child.tag: _element(child) for child in children}


def parse_xml(raw: bytes):
    if not raw.startswith(b"<?xml"):
        raise Open311Error("XML without a declaration")
    declaration = raw.split(b"?>", 1)[0].lower()
    if b'encoding="utf-8"' not in declaration and b"encoding='utf-8'" not in declaration:
        raise Open311Error(f"XML declaration without UTF-8 encoding: {declaration!r}")
    root = ET.fromstring(raw)
    if root.tag.startswith("{"):
        raise Open311Error(f"XML root in a namespace: {root.tag}")
    for node in root.iter():
        if node.tag.startswith("{"):
            raise Open311Error(f"XML element in a namespace: {node.tag}")
    return _element(root)


def _as_text(value):
    if isinstance(value, list):
        return [_as_text(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_text(child) for key, child in value.items()}
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or value == "":
        return None
    return str(value)


def parse_json(raw: bytes):
    return _as_text(json.loads(raw.decode("utf-8")))


class Client:
    """`Client("http://host/open311/v2", "json")`; every call returns a Response."""

    def __init__(
        self, base_url: str, fmt: str = "xml", api_key: str | None = None, timeout: float = 10, transport=None
    ):
        if fmt not in ("xml", "json"):
            raise ValueError(fmt)
        self.base_url = base_url.rstrip("/")
        self.fmt = fmt
        self.api_key = api_key
        self.timeout = timeout
        # transport(method, url, body, content_type) -> (status, headers, body bytes); HTTP by default.
        self.transport = transport or self.http

    # The six methods of the spec, plus discovery.

    def discovery(self) -> Response:
        return self.get("discovery")

    def services(self, **params) -> Response:
        return self.get("services", **params)

    def service_definition(self, service_code: str, **params) -> Response:
        return self.get(f"services/{urllib.parse.quote(service_code, safe='')}", **params)

    def requests(self, **params) -> Response:
        return self.get("requests", **params)

    def request(self, service_request_id: str, **params) -> Response:
        return self.get(f"requests/{urllib.parse.quote(service_request_id, safe='')}", **params)

    def token(self, token: str, **params) -> Response:
        return self.get(f"tokens/{urllib.parse.quote(token, safe='')}", **params)

    def post_request(
        self,
        service_code: str,
        *,
        attributes: dict | None = None,
        media: list[tuple[str, bytes, str]] | None = None,
        api_key: str | None = ...,
        **fields,
    ) -> Response:
        """POST a service request. `attributes` maps codes to a value or, for multivaluelist,
        a list (sent as attribute[code][]=v repeated); `media` is [(filename, bytes, type)] sent
        as multipart media[] (the v2.1 draft); without media the body is form-urlencoded."""
        pairs: list[tuple[str, str]] = []
        key = self.api_key if api_key is ... else api_key
        if key is not None:
            pairs.append(("api_key", key))
        pairs.append(("service_code", service_code))
        for name, value in fields.items():
            if value is not None:
                pairs.append((name, str(value)))
        for code, value in (attributes or {}).items():
            if isinstance(value, list | tuple):
                pairs.extend((f"attribute[{code}][]", str(item)) for item in value)
            else:
                pairs.append((f"attribute[{code}]", str(value)))
        if media:
            body, content_type = _multipart(pairs, media)
        else:
            body = urllib.parse.urlencode(pairs).encode("utf-8")
            content_type = "application/x-www-form-urlencoded; charset=utf-8"
        return self.send("POST", f"{self.base_url}/requests.{self.fmt}", body, content_type)

    # HTTP

    def get(self, resource: str, **params) -> Response:
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        url = f"{self.base_url}/{resource}.{self.fmt}" + (f"?{query}" if query else "")
        return self.send("GET", url)

    def http(self, method: str, url: str, body: bytes | None, content_type: str | None) -> tuple[int, dict, bytes]:
        request = urllib.request.Request(url, data=body, method=method)
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as answer:
            return answer.code, dict(answer.headers), answer.read()

    def fetch(self, url: str) -> tuple[int, dict, bytes]:
        """A plain GET of a URL the server gave (a media_url)."""
        return self.transport("GET", url, None, None)

    def send(self, method: str, url: str, body: bytes | None = None, content_type: str | None = None) -> Response:
        status, headers, raw = self.transport(method, url, body, content_type)
        content_type = headers.get("Content-Type", "")
        expected = "application/json" if self.fmt == "json" else "text/xml"
        if not content_type.startswith(expected):
            raise Open311Error(f"{method} {url}: {status} answered {content_type!r}, expected {expected}")
        data = parse_json(raw) if self.fmt == "json" else parse_xml(raw)
        return Response(status=status, content_type=content_type, raw=raw, headers=headers, data=data)


def _multipart(pairs: list[tuple[str, str]], media: list[tuple[str, bytes, str]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, value in pairs:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for filename, content, content_type in media:
        content_type = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="media[]"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        )
        parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
