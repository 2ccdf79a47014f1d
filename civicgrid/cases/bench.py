"""Benchmarks for cases (`python -m civicgrid.bench -k case`, `-k queue`, `-k search`): creation
through the API, every workbench queue as the demo user whose role works it, the case page and
the case search, against whatever cases the bench database holds.

Load many cases first, as a separate step (it takes minutes, not part of `make bench`):

    manage.py load_cases 1000000

The scenarios start their own gunicorn on a free loopback port against the same database
(settings from the environment, as for `make bench`) and stop it afterwards. Their ceilings
(civicgrid.bench.Ceiling) are `GET /livez` on that server with the same clients: 8 concurrent
clients for creation, 100 sequential requests for the pages.
"""

from __future__ import annotations

import atexit
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from civicgrid.bench import Ceiling, Scenario, Target, describe_targets

CLIENTS = 8  # concurrent API clients
REQUESTS_PER_CLIENT = 100
WARM_UP_PER_CLIENT = 10  # before the measured runs, so that every worker has built its grid index
PAGE_REQUESTS = 100
BENCH_DESCRIPTION = "暴露垃圾，基准测试"
# gunicorn workers: bin/serve would start 2 × cores + 1 = 5 here; 3 leaves the clients a share of the
# 2 cores. BENCH_WORKERS overrides it (with SQLite, fewer writers wait less on the write lock).
WORKERS = int(os.environ.get("BENCH_WORKERS", "3"))


# The targets: creation at 10,000,000 cases on PostgreSQL; pages at 10,000,000 on
# PostgreSQL and 1,000,000 on SQLite (SQLite creation: what one writer at a time can do).
CREATION_TARGETS = {"postgresql": Target(min_rate=1000, p99_ms=100), "sqlite": Target(min_rate=300)}
PAGE_TARGETS = {"postgresql": Target(p95_ms=50), "sqlite": Target(p95_ms=100)}

# Each queue as the demo user whose role works it (civicgrid.core.demo.DEMO_USERS); the
# inspector's verify and check queues hold only the cases assigned to them.
QUEUE_USERS = {
    "verify": ("inspector", "待核实"),
    "file": ("operator", "待立案"),
    "dispatch": ("dispatcher", "待派遣"),
    "sign": ("handler", "待签收"),
    "handle": ("handler", "待处置"),
    "approve": ("shift_lead", "待审批"),
    "check": ("inspector", "待核查"),
    "close": ("shift_lead", "待结案"),
    "overdue": ("leader", "超期"),
    "supervised": ("leader", "督办"),
    "all": ("operator", "全部案件"),
}
DEEP_PAGE = 50  # of the "all" queue: OFFSET 2,450 rows
SEARCH_USER = "operator"  # the intake desk looks a case up when a citizen calls back


class _State:
    server: subprocess.Popen | None = None
    port = 0
    token = ""
    session = ""
    sessions: dict[str, str] = {}
    queue_fallback: set[str] = set()
    numbers: list[str] = []
    address_words: list[str] = []
    category_id = 0
    points: list[tuple[float, float]] = []
    case_ids: list[int] = []
    api_fallback = False
    first_new_id = 0
    sequences: dict[int, int] = {}
    pages_fallback = False
    cpu: dict[str, float] = {}
    cpu_cases = 0


_state = _State()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ensure_data(scenarios: list[Scenario] | None = None) -> None:
    """Build the demo county if the database has none; print the case count and add it to the
    descriptions of `scenarios` (this module's by default)."""
    from django.core.management import call_command

    from civicgrid.cases.models import Case
    from civicgrid.geo.models import Grid

    if not Grid.objects.exists():
        call_command("demo", "--if-empty", "--cases", "0")
    count = Case.objects.count()
    print(f"    bench database: {count:,} cases", flush=True)
    # The table in docs/benchmarks.md then says what was measured against.
    for scenario in SCENARIOS if scenarios is None else scenarios:
        if "Measured with" not in scenario.description:
            scenario.description += f" Measured with {count:,} cases in the database."


def _start_server(extra_env: dict[str, str] | None = None) -> None:
    """Start gunicorn unless it runs; `extra_env` adds settings for this server only."""
    if _state.server is not None:
        return
    _state.port = _free_port()
    atexit.register(_stop_server)
    base = Path(__file__).resolve().parents[2]
    env = {**os.environ, "CIVICGRID_EMBEDDED_JOBS": "false", **(extra_env or {})}
    _state.server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "civicgrid.wsgi:application",
            "--config",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{_state.port}",
            "--workers",
            str(WORKERS),
            "--log-level",
            "warning",
        ],
        cwd=base,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status, _ = _request("GET", "/healthz")
            if status < 500:
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not start")


def _stop_server() -> None:
    if _state.server is not None and _state.server.poll() is None:
        _state.server.send_signal(signal.SIGTERM)
        try:
            _state.server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            _state.server.kill()
    _state.server = None


def _request(method: str, path: str, body: dict | bytes | None = None, headers: dict | None = None, conn=None):
    """A dict body is sent as JSON; bytes are sent as they are (the caller sets Content-Type)."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", _state.port, timeout=60)
    try:
        if isinstance(body, bytes):
            payload, all_headers = body, {}
        else:
            payload = json.dumps(body).encode() if body is not None else None
            all_headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=payload, headers={**all_headers, **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        if own:
            conn.close()


def _points(n: int) -> list[tuple[float, float]]:
    """Random points that fall inside the county's grids."""
    import numpy as np

    from civicgrid.geo.lookup import get_index

    index = get_index()
    rng = np.random.default_rng(20261127)
    lons = np.round(rng.uniform(114.29, 114.33, 20 * n), 6)
    lats = np.round(rng.uniform(25.67, 25.70, 20 * n), 6)
    inside = [
        (lo, la)
        for lo, la, c in zip(lons.tolist(), lats.tolist(), index.locate_many(lons, lats).tolist(), strict=True)
        if c
    ]
    return inside[:n]


# Creation through the API


def _setup_floor() -> None:
    from rest_framework.authtoken.models import Token

    from civicgrid.core.models import User

    _ensure_data()
    _state.token = Token.objects.get_or_create(user=User.objects.get(username="operator"))[0].key
    _start_server()
    _concurrently(WARM_UP_PER_CLIENT, lambda c, k, conn: _request("GET", "/healthz", None, None, conn)[0] == 200)


def _setup_create() -> None:
    from rest_framework.authtoken.models import Token

    from civicgrid.catalog.models import Category
    from civicgrid.core.models import User

    _ensure_data()
    operator = User.objects.get(username="operator")
    _state.token = Token.objects.get_or_create(user=operator)[0].key
    _state.category_id = Category.objects.get(name="暴露垃圾").pk
    _state.points = _points(2000)
    _remember_for_cleanup()
    _start_server()
    status, body = _request("POST", "/api/v1/cases/", _create_body(0), _auth())
    if status != 201:
        print(f"    POST /api/v1/cases/ answered {status}: measuring case_report in-process instead", flush=True)
        _state.api_fallback = True
    else:
        _post_concurrently(WARM_UP_PER_CLIENT)


def _remember_for_cleanup() -> None:
    from django.db.models import Max

    from civicgrid.cases.models import Case, CaseNumberSequence

    _state.first_new_id = (Case.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    _state.sequences = dict(CaseNumberSequence.objects.values_list("pk", "last"))


def _cleanup_created() -> None:
    """Delete the cases the scenario created (the bench database is often the demo's) and give their numbers back."""
    scenario = SCENARIOS[0]
    scenario.description += _cpu_text()
    _delete_created(BENCH_DESCRIPTION)


def _delete_created(description: str) -> None:
    """Delete the cases with `description` created since `_remember_for_cleanup()` (with what
    cascades from them) and put the case number sequences back."""
    from civicgrid.cases.models import Case, CaseNumberSequence

    Case.objects.filter(pk__gte=_state.first_new_id, description=description).delete()
    for pk, last in _state.sequences.items():
        CaseNumberSequence.objects.filter(pk=pk).update(last=last)
    CaseNumberSequence.objects.exclude(pk__in=list(_state.sequences)).delete()


def _auth() -> dict:
    return {"Authorization": f"Token {_state.token}"}


def _create_body(k: int) -> dict:
    lon, lat = _state.points[k % len(_state.points)]
    return {
        "channel": "hotline",
        "category": _state.category_id,
        "lon": lon,
        "lat": lat,
        "description": BENCH_DESCRIPTION,
    }


def _create_cases() -> tuple[int, list[float]]:
    if _state.api_fallback:
        return _create_in_process()
    before = _cpu_seconds()
    done, latencies = _post_concurrently(REQUESTS_PER_CLIENT)
    after = _cpu_seconds()
    for group, seconds in after.items():
        _state.cpu[group] = _state.cpu.get(group, 0.0) + seconds - before.get(group, 0.0)
    _state.cpu_cases += done
    return done, latencies


def _cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by the gunicorn workers, the PostgreSQL server processes (all of
    them: run the bench on an otherwise idle server) and this process (the load clients), read
    from /proc (Linux); {} elsewhere."""
    from django.db import connection

    proc = Path("/proc")
    if not proc.is_dir() or _state.server is None:
        return {}
    count_database = connection.vendor == "postgresql"
    tick = os.sysconf("SC_CLK_TCK")
    used = {"server": 0.0, "database": 0.0}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        if int(fields[1]) == _state.server.pid or int(entry.name) == _state.server.pid:
            used["server"] += seconds  # the gunicorn master and its workers
        elif count_database and name.startswith("postgres"):
            used["database"] += seconds
    own = os.times()
    used["clients"] = own.user + own.system
    return used


def _cpu_text() -> str:
    if not _state.cpu_cases or not _state.cpu:
        return ""
    per_case = {group: seconds / _state.cpu_cases * 1000 for group, seconds in _state.cpu.items()}
    parts = [f"gunicorn {per_case['server']:.1f} ms", f"load clients {per_case['clients']:.1f} ms"]
    if _state.cpu.get("database"):
        parts.insert(1, f"PostgreSQL server {per_case['database']:.1f} ms")
    return " CPU per created case: " + ", ".join(parts) + "."


def _post_concurrently(per_client: int) -> tuple[int, list[float]]:
    def post(c: int, k: int, conn) -> bool:
        status, _body = _request("POST", "/api/v1/cases/", _create_body(c * 1000 + k), _auth(), conn)
        return status == 201 or status

    return _concurrently(per_client, post)


def _floor() -> tuple[int, list[float]]:
    """The same clients and server on a read-only DRF endpoint: what the stack costs per request
    before the report's own work (validation, the grid lookup, the inserts)."""

    def get(c: int, k: int, conn) -> bool:
        day = 1 + (c * REQUESTS_PER_CLIENT + k) % 28
        path = f"/api/v1/calendar/deadline?start=2026-03-{day:02d}T09:00:00%2B08:00&amount=3&unit=working_days"
        status, _body = _request("GET", path, None, _auth(), conn)
        return status == 200 or status

    return _concurrently(REQUESTS_PER_CLIENT, get)


def _concurrently(per_client: int, one) -> tuple[int, list[float]]:
    """`CLIENTS` threads, each with its own connection, each calling `one(client, k, conn)`
    `per_client` times; `one` answers True or the unexpected HTTP status."""
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()

    def client(c: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", _state.port, timeout=60)
        mine = []
        for k in range(per_client):
            started = time.perf_counter()
            outcome = one(c, k, conn)
            mine.append((time.perf_counter() - started) * 1000)
            if outcome is not True:
                errors.append(outcome)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        print(f"    {len(errors)} failed requests, e.g. HTTP {errors[0]}", flush=True)
    return len(latencies) - len(errors), latencies


def _create_in_process() -> tuple[int, list[float]]:
    from civicgrid.cases.services import ReportInput, case_report
    from civicgrid.core.models import User

    operator = User.objects.get(username="operator")
    latencies = []
    for k in range(CLIENTS * REQUESTS_PER_CLIENT):
        body = _create_body(k)
        started = time.perf_counter()
        case_report(
            data=ReportInput(
                channel="hotline",
                category_id=body["category"],
                lon=body["lon"],
                lat=body["lat"],
                description=BENCH_DESCRIPTION,
            ),
            actor=operator,
        )
        latencies.append((time.perf_counter() - started) * 1000)
    return len(latencies), latencies


# The dispatcher's pages


def _login(username: str) -> str:
    """The session key of a logged-in session of `username`, as the login view would store it."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from civicgrid.core.models import User

    if username not in _state.sessions:
        user = User.objects.get(username=username)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        _state.sessions[username] = session.session_key
    return _state.sessions[username]


def _setup_pages() -> None:
    from django.db.models import Max, Min

    from civicgrid.cases.models import Case

    _start_server()  # a scenario before may have stopped it
    if _state.session:
        return
    _ensure_data()
    _state.session = _login("dispatcher")
    from civicgrid.core.models import User

    # Random cases the dispatcher may open: on a platform of several counties, their county's.
    visible = Case.objects.visible_to(User.objects.get(username="dispatcher"))
    bounds = visible.aggregate(lo=Min("id"), hi=Max("id"))
    rng = random.Random(7)
    _state.case_ids = []
    for _attempt in range(20):
        picks = [rng.randint(bounds["lo"] or 0, bounds["hi"] or 0) for _ in range(PAGE_REQUESTS * 10)]
        _state.case_ids += list(visible.filter(pk__in=picks).values_list("pk", flat=True))
        if len(_state.case_ids) >= PAGE_REQUESTS:
            break
    rng.shuffle(_state.case_ids)
    _state.case_ids = _state.case_ids[:PAGE_REQUESTS]
    status, _ = _request("GET", "/cases/?queue=dispatch", headers=_cookie())
    if status != 200 or not _state.case_ids:
        print(f"    GET /cases/?queue=dispatch answered {status}: measuring the selectors instead", flush=True)
        _state.pages_fallback = True


def _cookie(username: str = "dispatcher") -> dict:
    from django.conf import settings

    return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={_login(username)}"}


def _get_pages(paths: list[str], username: str = "dispatcher") -> tuple[int, list[float]]:
    conn = http.client.HTTPConnection("127.0.0.1", _state.port, timeout=60)
    headers = _cookie(username)
    latencies = []
    for path in paths:
        started = time.perf_counter()
        status, _body = _request("GET", path, headers=headers, conn=conn)
        latencies.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
    conn.close()
    return len(latencies), latencies


def _case_page() -> tuple[int, list[float]]:
    if _state.pages_fallback:
        return _selector_timings(_detail)
    return _get_pages([f"/cases/{pk}/" for pk in _state.case_ids])


def _detail(user, k: int):
    from civicgrid.cases.models import Case

    case = (
        Case.objects.visible_to(user)
        .select_related("category", "grid", "street", "community")
        .get(pk=_state.case_ids[k % len(_state.case_ids)])
    )
    return list(case.events.select_related("actor", "unit")), list(case.stages.all()), list(case.attachments.all())


def _selector_timings(fn, username: str = "dispatcher") -> tuple[int, list[float]]:
    from civicgrid.core.models import User

    user = User.objects.get(username=username)
    latencies = []
    for k in range(PAGE_REQUESTS):
        started = time.perf_counter()
        fn(user, k)
        latencies.append((time.perf_counter() - started) * 1000)
    return len(latencies), latencies


# The workbench queues


def _queue_path(key: str, page: int | None) -> str:
    return f"/cases/?queue={key}" + (f"&page={page}" if page else "")


def _queue_scenario(key: str, page: int | None = None) -> Scenario:
    """One queue page as its role's demo user: PAGE_REQUESTS sequential requests."""
    username, label = QUEUE_USERS[key]
    path = _queue_path(key, page)

    def setup() -> None:
        nonlocal path
        from civicgrid.cases.selectors import QUEUES, queues_for
        from civicgrid.core.models import User

        _setup_pages()
        if key == "all" and page:
            # 全部案件 pages by keyset: page N is the cursor after row (N - 1) × 50, as the
            # 下一页 links would reach it.
            from civicgrid.core import keyset

            user = User.objects.get(username=username)
            row = _queue(user, key).values_list("created_at", "id")[(page - 1) * 50 - 1]
            path = f"/cases/?queue={key}&cursor={keyset.encode_key(keyset.OLDER, *row)}"
        if set(QUEUES) != set(QUEUE_USERS):
            print(f"    queues without a scenario or gone: {sorted(set(QUEUES) ^ set(QUEUE_USERS))}", flush=True)
        if key not in {q.key for q in queues_for(User.objects.get(username=username))}:
            # The workbench would show this user another queue instead.
            raise RuntimeError(f"the demo {username} does not work the {key} queue: fix QUEUE_USERS")
        status, _ = _request("GET", path, headers=_cookie(username))
        if status != 200:
            print(f"    GET {path} as {username} answered {status}: measuring the selector instead", flush=True)
            _state.queue_fallback.add(path)
        else:
            _get_pages([path] * 3, username)  # warm-up: every worker has its templates

    def run() -> tuple[int, list[float]]:
        if path in _state.queue_fallback or _state.pages_fallback:
            offset = ((page or 1) - 1) * 50
            return _selector_timings(lambda user, _k: list(_queue(user, key)[offset : offset + 50]), username)
        return _get_pages([path] * PAGE_REQUESTS, username)

    where = f", page {page} (rows {(page - 1) * 50 + 1:,}–{page * 50:,}, by its 下一页 cursor)" if page else ""
    return Scenario(
        name=f"queue {key}{f' page {page}' if page else ''} ({username})",
        unit="pages",
        run=run,
        setup=setup,
        ceiling=SEQUENTIAL_CEILING,
        targets=PAGE_TARGETS,
        description=(
            f"GET {path if not page else f'/cases/?queue={key}&cursor=…'} ({label}{where}) as the demo {username} "
            f"(logged-in session cookie), {PAGE_REQUESTS} "
            "sequential requests through the same gunicorn: the full workbench page, with the tab counts. "
            f"{describe_targets(PAGE_TARGETS)}"
        ),
    )


def _queue(user, key: str):
    from civicgrid.cases.selectors import queue_cases

    return queue_cases(user, key)


# The case search (the workbench's q filter: case number or address, in the "all" queue)


def _setup_search() -> None:
    from civicgrid.cases.models import Case
    from civicgrid.geo.models import Region

    _setup_pages()
    if not _state.numbers:
        _state.numbers = list(Case.objects.filter(pk__in=_state.case_ids).values_list("number", flat=True))
        # Community names: the words an address holds (street + community + grid).
        words = Region.objects.filter(level=Region.Level.COMMUNITY).order_by("code").values_list("name", flat=True)
        _state.address_words = list(words)[:20] or ["社区"]
    _get_pages([_search_path(_state.address_words[0])] * 3, SEARCH_USER)  # warm-up


def _search_path(term: str) -> str:
    from urllib.parse import quote

    return f"/cases/?queue=all&q={quote(term)}"


def _search(terms: list[str]) -> tuple[int, list[float]]:
    from django.test import RequestFactory

    from civicgrid.cases.selectors import case_filter

    if _state.pages_fallback:
        factory = RequestFactory()

        def one(user, k: int):
            params = factory.get("/", {"q": terms[k % len(terms)]}).GET
            return list(case_filter(_queue(user, "all"), params)[:50])

        return _selector_timings(one, SEARCH_USER)
    return _get_pages([_search_path(terms[k % len(terms)]) for k in range(PAGE_REQUESTS)], SEARCH_USER)


def _search_numbers() -> tuple[int, list[float]]:
    return _search(_state.numbers or ["0"])


def _search_words() -> tuple[int, list[float]]:
    return _search(_state.address_words)


def _search_nothing() -> tuple[int, list[float]]:
    return _search(["不存在的地址"])


def _search_scenario(name: str, run, what: str) -> Scenario:
    return Scenario(
        name=name,
        unit="pages",
        run=run,
        setup=_setup_search,
        ceiling=SEQUENTIAL_CEILING,
        targets=PAGE_TARGETS,
        description=(
            f"GET /cases/?queue=all&q=… as the demo {SEARCH_USER}, {PAGE_REQUESTS} sequential requests through "
            f"the same gunicorn; q is {what} (the workbench search: case number or address contains q, "
            f"newest first, 50 a page). {describe_targets(PAGE_TARGETS)}"
        ),
    )


# The ceilings: GET /livez (no database, no session) on the same server, the same clients


def _livez(c: int, k: int, conn) -> bool:
    status, _body = _request("GET", "/livez", None, None, conn)
    return status == 200 or status


def _warm_ceiling() -> None:
    _start_server()
    _concurrently(WARM_UP_PER_CLIENT, _livez)


def _bare_concurrent() -> tuple[int, list[float]]:
    return _concurrently(REQUESTS_PER_CLIENT, _livez)


def _bare_sequential() -> tuple[int, list[float]]:
    conn = http.client.HTTPConnection("127.0.0.1", _state.port, timeout=60)
    latencies = []
    for k in range(PAGE_REQUESTS):
        started = time.perf_counter()
        if _livez(0, k, conn) is not True:
            raise RuntimeError("GET /livez did not answer 200")
        latencies.append((time.perf_counter() - started) * 1000)
    conn.close()
    return len(latencies), latencies


CONCURRENT_CEILING = Ceiling(
    "concurrent",
    run=_bare_concurrent,
    setup=_warm_ceiling,
    description=(
        f"GET /livez (no database, no session) from {CLIENTS} concurrent clients × {REQUESTS_PER_CLIENT} requests "
        f"to the bench gunicorn ({WORKERS} workers): the ceiling of the concurrent scenarios."
    ),
)
SEQUENTIAL_CEILING = Ceiling(
    "sequential",
    run=_bare_sequential,
    setup=_warm_ceiling,
    description=(
        f"GET /livez, {PAGE_REQUESTS} sequential requests to the same gunicorn: the ceiling of the page scenarios."
    ),
)


SCENARIOS = [
    Scenario(
        name="case creation via API",
        unit="cases",
        run=_create_cases,
        setup=_setup_create,
        teardown=_cleanup_created,
        ceiling=CONCURRENT_CEILING,
        targets=CREATION_TARGETS,
        description=(
            f"POST /api/v1/cases/ (token auth, JSON: hotline report of 暴露垃圾 at a random point) from {CLIENTS} "
            f"concurrent clients × {REQUESTS_PER_CLIENT} requests on loopback, to gunicorn ({WORKERS} workers) "
            "started on the bench database; rate = created cases per second; latency per request. "
            f"{describe_targets(CREATION_TARGETS)} The cases created are deleted afterwards."
        ),
    ),
    Scenario(
        name="API floor (read-only request)",
        unit="requests",
        run=_floor,
        setup=_setup_floor,
        ceiling=CONCURRENT_CEILING,
        description=(
            f"GET /api/v1/calendar/deadline (DRF, JSON, one cached calendar read, no writes) from the same {CLIENTS} "
            f"clients × {REQUESTS_PER_CLIENT} requests to the same gunicorn: what Django, DRF, gunicorn and the "
            "clients cost per request on this machine before a report's own work — the ceiling for case creation."
        ),
    ),
    *[_queue_scenario(key) for key in QUEUE_USERS],
    _queue_scenario("all", page=DEEP_PAGE),
    Scenario(
        name="case page",
        unit="pages",
        run=_case_page,
        setup=_setup_pages,
        ceiling=SEQUENTIAL_CEILING,
        targets=PAGE_TARGETS,
        description=(
            f"GET /cases/<id>/ as the dispatcher for {PAGE_REQUESTS} random cases of the bench database "
            f"(timeline, stage clocks, photos). {describe_targets(PAGE_TARGETS)}"
        ),
    ),
    _search_scenario(
        "case search by number", _search_numbers, f"the full number of one of {PAGE_REQUESTS} random cases"
    ),
    _search_scenario("case search by address word", _search_words, "a community name, 20 in turn (many matches each)"),
    _search_scenario(
        "case search without a match", _search_nothing, "a word no address holds (the whole table is read)"
    ),
]
SCENARIOS[-1].teardown = _stop_server
