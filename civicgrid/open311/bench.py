"""Benchmarks for Open311 (`python -m civicgrid.bench -k Open311`): POST requests (reports through
the interface) and GET requests (the search), against whatever cases the bench database holds.

The server, the load clients, the warm-up and the clean-up are those of civicgrid/cases/bench.py.
The database needs the demo county's app key (civicgrid.open311.services.DEMO_KEY): `manage.py
demo` creates it, or `manage.py shell -c "from civicgrid.open311.services import demo_app_ensure;
demo_app_ensure()"` in a bench database built by `manage.py load_cases`.
"""

from __future__ import annotations

import http.client
import json
import statistics
import time
from datetime import timedelta
from urllib.parse import urlencode

from civicgrid.bench import Scenario, describe_targets
from civicgrid.cases.bench import (
    CLIENTS,
    CONCURRENT_CEILING,
    CREATION_TARGETS,
    PAGE_TARGETS,
    REQUESTS_PER_CLIENT,
    SEQUENTIAL_CEILING,
    WARM_UP_PER_CLIENT,
    WORKERS,
    _concurrently,
    _delete_created,
    _ensure_data,
    _points,
    _remember_for_cleanup,
    _request,
    _start_server,
    _state,
    _stop_server,
)

PATH = "/open311/v2/requests.json"
BENCH_DESCRIPTION = "暴露垃圾，Open311 基准测试"
GET_REQUESTS = 40  # per run, the filters in turn
# The per-IP POST limit (20 an hour by default) would stop a benchmark whose clients all come from
# 127.0.0.1 after 20 requests. It is raised, not turned off (0), so that every POST still runs the
# limit's count query, as in production; only for the gunicorn the bench starts.
SERVER_ENV = {"CIVICGRID_OPEN311_POSTS_PER_IP": "1000000"}


class _Open311:
    key = ""
    service_code = ""
    queries: list[str] = []
    labels: list[str] = []
    by_query: dict[int, list[float]] = {}
    answered: dict[int, int] = {}


_open311 = _Open311()


def _setup_key() -> None:
    from civicgrid.open311.selectors import public_categories
    from civicgrid.open311.services import DEMO_KEY, app_for_key

    _ensure_data(SCENARIOS)
    if app_for_key(DEMO_KEY) is None:
        raise RuntimeError(
            "the bench database has no active demo Open311 app: run manage.py shell -c "
            '"from civicgrid.open311.services import demo_app_ensure; demo_app_ensure()"'
        )
    _open311.key = DEMO_KEY
    # A public category without required extra questions, 暴露垃圾 when it is one.
    categories = public_categories().exclude(service_attributes__required=True, service_attributes__variable=True)
    category = categories.filter(name="暴露垃圾").first() or categories.order_by("id").first()
    _open311.service_code = str(category.pk)


# POST requests


def _setup_post() -> None:
    _setup_key()
    _state.points = _points(2000)
    _remember_for_cleanup()
    _stop_server()  # a server started by another scenario has the default POST limit
    _start_server(SERVER_ENV)
    status, body = _request("POST", PATH, _post_body(0), _FORM)
    if status != 200:
        raise RuntimeError(f"POST {PATH} answered {status}: {body[:300]!r}")
    _post_concurrently(WARM_UP_PER_CLIENT)


_FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def _post_body(k: int) -> bytes:
    lon, lat = _state.points[k % len(_state.points)]
    return urlencode(
        {
            "api_key": _open311.key,
            "service_code": _open311.service_code,
            "lat": lat,
            "long": lon,
            "description": BENCH_DESCRIPTION,
        }
    ).encode()


def _post_concurrently(per_client: int) -> tuple[int, list[float]]:
    def post(c: int, k: int, conn) -> bool:
        status, _body = _request("POST", PATH, _post_body(c * 1000 + k), _FORM, conn)
        return status == 200 or status

    return _concurrently(per_client, post)


def _post_requests() -> tuple[int, list[float]]:
    return _post_concurrently(REQUESTS_PER_CLIENT)


def _cleanup_posts() -> None:
    """The cases created (their Open311 records go with them) are deleted, their numbers given back."""
    _delete_created(BENCH_DESCRIPTION)


# GET requests


def _setup_get() -> None:
    from django.utils import timezone

    _setup_key()
    _start_server(SERVER_ENV)
    now = timezone.now()
    window = {
        "start_date": (now - timedelta(days=60)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_date": (now - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    _open311.queries = [
        f"{PATH}?{urlencode(params)}"
        for params in (
            {"service_code": _open311.service_code},
            {"status": "open"},
            window,
            {"status": "open", "extensions": "true"},
        )
    ]
    _open311.labels = ["service_code", "status=open", "start/end window", "status=open + extensions"]
    _open311.by_query = {}
    conn = http.client.HTTPConnection("127.0.0.1", _state.port, timeout=60)
    for i, path in enumerate(_open311.queries):  # warm-up, and each filter must answer
        for _ in range(2):
            status, body = _request("GET", path, conn=conn)
            if status != 200:
                raise RuntimeError(f"GET {path} answered {status}: {body[:300]!r}")
        _open311.answered[i] = len(json.loads(body))
    conn.close()


def _get_requests() -> tuple[int, list[float]]:
    conn = http.client.HTTPConnection("127.0.0.1", _state.port, timeout=60)
    latencies = []
    for k in range(GET_REQUESTS):
        path = _open311.queries[k % len(_open311.queries)]
        started = time.perf_counter()
        status, _body = _request("GET", path, conn=conn)
        latencies.append((time.perf_counter() - started) * 1000)
        _open311.by_query.setdefault(k % len(_open311.queries), []).append(latencies[-1])
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
    conn.close()
    return len(latencies), latencies


def _teardown_get() -> None:
    """Stop the server; add each filter's median latency and answer size to the description."""
    _stop_server()
    if _open311.by_query:
        parts = [
            f"{_open311.labels[i]} {statistics.median(ms):.0f} ms ({_open311.answered.get(i, 0):,} requests)"
            for i, ms in sorted(_open311.by_query.items())
        ]
        SCENARIOS[1].description += " Median by filter: " + ", ".join(parts) + "."
        print("    median by filter: " + ", ".join(parts), flush=True)


SCENARIOS = [
    Scenario(
        name="Open311 POST requests",
        unit="requests",
        run=_post_requests,
        setup=_setup_post,
        teardown=_cleanup_posts,
        ceiling=CONCURRENT_CEILING,
        targets=CREATION_TARGETS,
        description=(
            f"POST {PATH} (form-encoded, the demo API key, a public category at a random point, no photo) from "
            f"{CLIENTS} concurrent clients × {REQUESTS_PER_CLIENT} requests on loopback, to gunicorn ({WORKERS} "
            "workers) started on the bench database; rate = accepted requests (cases created) per second; latency "
            "per request. The per-IP POST limit (CIVICGRID_OPEN311_POSTS_PER_IP, 20 an hour) is raised to "
            "1,000,000 for that server only, since every client is 127.0.0.1; its count query still runs. The "
            f"cases created (and their Open311 records) are deleted afterwards. {describe_targets(CREATION_TARGETS)}"
        ),
    ),
    Scenario(
        name="Open311 GET requests",
        unit="requests",
        run=_get_requests,
        setup=_setup_get,
        teardown=_teardown_get,
        ceiling=SEQUENTIAL_CEILING,
        targets=PAGE_TARGETS,
        description=(
            f"GET {PATH}, {GET_REQUESTS} sequential requests per run through the same gunicorn, four filters in "
            "turn: a service_code, status=open, a 30-day start_date/end_date window inside the 90 days, and "
            "status=open&extensions=true (notes and attributes); each answers up to 1,000 requests (the cap), "
            f"with the cases the bench database holds (printed). {describe_targets(PAGE_TARGETS)}"
        ),
    ),
]
