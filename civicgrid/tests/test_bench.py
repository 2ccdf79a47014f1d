"""The bench runner's own logic (civicgrid/bench.py), without a server or a database."""

from types import SimpleNamespace

import pytest

from civicgrid import bench
from civicgrid.bench import Ceiling, Result, Scenario, Target


class Clock:
    """A perf_counter that moves only when a scenario says how long its batch took."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def batch(self, seconds: float, ops: int, latencies: list[float] | None = None, calls: list | None = None):
        def run():
            self.now += seconds
            if calls is not None:
                calls.append(seconds)
            return (ops, latencies) if latencies is not None else ops

        return run


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(bench, "time", SimpleNamespace(perf_counter=clock))
    return clock


def test_it_measures_each_ceiling_once_and_reuses_it(clock):
    events = []
    ceiling_runs: list[float] = []
    ceiling = Ceiling(
        "sequential", run=clock.batch(0.1, 100, [1.0] * 100, ceiling_runs), setup=lambda: events.append("warm")
    )
    first = Scenario(
        "page a", "pages", clock.batch(1.0, 100, [10.0] * 100), setup=lambda: events.append("a"), ceiling=ceiling
    )
    second = Scenario("page b", "pages", clock.batch(0.5, 100, [5.0] * 100), ceiling=ceiling)

    results = bench.run_scenarios([first, second], repeats=3, database="sqlite")

    assert len(ceiling_runs) == 3  # one bench run: the ceiling's repeats, not once per scenario
    assert events == ["a", "warm"]  # after the scenario's set-up, which starts the server
    assert [r.name for r in results] == ["ceiling: sequential", "page a", "page b"]
    assert results[0].median == pytest.approx(1000)
    assert results[1].ceiling_rate == pytest.approx(1000)
    assert results[1].ratio == pytest.approx(0.1)
    assert results[1].ratio_text == "10 %"
    assert results[2].ratio == pytest.approx(0.2)


def test_it_measures_each_client_shape_separately(clock):
    concurrent = Ceiling("concurrent", run=clock.batch(0.5, 800))
    sequential = Ceiling("sequential", run=clock.batch(0.1, 100))
    scenarios = [
        Scenario("create", "cases", clock.batch(2.0, 800), ceiling=concurrent),
        Scenario("page", "pages", clock.batch(1.0, 100), ceiling=sequential),
    ]
    results = {r.name: r for r in bench.run_scenarios(scenarios, repeats=1, database="sqlite")}
    assert results["create"].ceiling_rate == pytest.approx(1600)
    assert results["create"].ratio_text == "25 %"
    assert results["page"].ceiling_rate == pytest.approx(1000)


def test_a_scenario_without_a_ceiling_has_no_ratio(clock):
    (result,) = bench.run_scenarios([Scenario("deadlines", "deadlines", clock.batch(1.0, 20_000))], 2, "sqlite")
    assert result.ceiling_rate is None
    assert result.ratio is None
    assert (result.ceiling_text, result.ratio_text, result.target_text) == ("", "", "")


def test_small_ratios_keep_a_decimal():
    result = Result("case page", "pages", "", rates=[3.0], ceiling_rate=1000.0)
    assert result.ratio_text == "0.3 %"


def test_it_picks_the_target_of_the_database_measured(clock):
    targets = {"postgresql": Target(p95_ms=50), "sqlite": Target(p95_ms=100)}
    scenario = Scenario("page", "pages", clock.batch(1.0, 100, [70.0] * 100), targets=targets)
    (on_sqlite,) = bench.run_scenarios([scenario], 1, "sqlite")
    (on_postgresql,) = bench.run_scenarios([scenario], 1, "postgresql")
    (on_mysql,) = bench.run_scenarios([scenario], 1, "mysql")
    assert on_sqlite.target_text == "✓ p95 < 100 ms"
    assert on_postgresql.target_text == "✗ p95 < 50 ms (p95 70.0 ms)"
    assert on_mysql.target_text == ""


def test_target_marks():
    latencies = [float(ms) for ms in range(1, 101)]  # p95 95 ms, p99 99 ms
    fast = Result("create", "cases", "", rates=[1200.0, 1100.0, 900.0], latencies_ms=latencies)
    creation = Target(min_rate=1000, p99_ms=100)
    fast.target = creation
    assert fast.target_text == "✓ ≥ 1,000/s, p99 < 100 ms"
    slow = Result("create", "cases", "", rates=[600.0], latencies_ms=latencies + [150.0] * 5, target=creation)
    assert slow.target_text == "✗ ≥ 1,000/s, p99 < 100 ms (600/s, p99 150.0 ms)"
    # A latency bound cannot hold without latencies.
    assert Result("x", "ops", "", rates=[1.0], target=Target(p95_ms=50)).target_text == "✗ p95 < 50 ms (no p95)"
    # The bound is strict: p95 exactly at it misses.
    at_bound = Result("x", "pages", "", rates=[1.0], latencies_ms=[50.0] * 10, target=Target(p95_ms=50))
    assert at_bound.target_text.startswith("✗")


def test_describe_targets():
    text = bench.describe_targets({"postgresql": Target(p95_ms=50), "sqlite": Target(p95_ms=100)})
    assert text == "Targets: p95 < 50 ms PostgreSQL, p95 < 100 ms SQLite."
    assert bench.describe_targets({}) == ""


MACHINE = {
    "database": "postgresql",
    "database_version": "16.4",
    "python": "3.12.3",
    "platform": "Linux-6.8-x86_64",
    "cpus": 2,
    "cpu_model": "AMD EPYC 7B13",
    "ram_gb": 7.8,
    "cases": {"崇义县": 4_000_000, "瑞金市": 6_000_000, "total": 10_000_000},
}


def test_the_markdown_describes_the_machine_and_the_new_columns():
    ceiling = Result("ceiling: sequential", "requests", "GET /livez", rates=[1000.0], latencies_ms=[1.0] * 10)
    page = Result(
        "queue dispatch (dispatcher)",
        "pages",
        "GET /cases/?queue=dispatch",
        rates=[50.0, 40.0, 60.0],
        latencies_ms=[20.0] * 100,
        ceiling_rate=1000.0,
        target=Target(p95_ms=50),
    )
    page_md = bench._markdown({"when": "20261130T150000", "machine": MACHINE}, [ceiling, page], repeats=3)
    assert (
        "Machine: AMD EPYC 7B13, 2 cores, 7.8 GB RAM, Linux-6.8-x86_64, Python 3.12.3. "
        "Database: PostgreSQL 16.4, 10,000,000 cases (崇义县 4,000,000; 瑞金市 6,000,000)."
    ) in page_md
    assert "| scenario | median | min | max | p50/p95/p99 ms | ceiling | ratio | target | what it does |" in page_md
    assert (
        "| queue dispatch (dispatcher) | 50 pages/s | 40 | 60 | 20.0/20.0/20.0 | 1,000/s | 5.0 % "
        "| ✓ p95 < 50 ms | GET /cases/?queue=dispatch |"
    ) in page_md
    assert "| ceiling: sequential | 1,000 requests/s |" in page_md


def test_the_json_has_the_ceiling_the_ratio_and_the_target():
    page = Result(
        "case page", "pages", "", rates=[25.0], latencies_ms=[60.0] * 10, ceiling_rate=500.0, target=Target(p95_ms=50)
    )
    row = bench.result_json(page)
    assert row["ceiling_per_s"] == 500.0
    assert row["ratio"] == pytest.approx(0.05)
    assert row["target"] == {"text": "p95 < 50 ms", "holds": False, "shown": "✗ p95 < 50 ms (p95 60.0 ms)"}
    plain = bench.result_json(Result("deadlines", "deadlines", "", rates=[1.0]))
    assert "ceiling_per_s" not in plain and "target" not in plain


def test_it_skips_an_optional_module_that_has_not_landed(monkeypatch):
    monkeypatch.setattr(bench, "OPTIONAL_BENCH_MODULES", {"civicgrid.cases.bench_not_yet"})
    assert bench.load_scenarios(["civicgrid.cases.bench_not_yet"]) == []
    with pytest.raises(ModuleNotFoundError):
        bench.load_scenarios(["civicgrid.cases.bench_not_optional"])


def test_the_import_bench_is_listed_as_optional():
    assert "civicgrid.cases.bench_import" in bench.BENCH_MODULES
    assert "civicgrid.cases.bench_import" in bench.OPTIONAL_BENCH_MODULES


def test_only_a_full_run_at_scale_replaces_the_published_page():
    small = {"database": "sqlite", "cases": {"total": 25_000}}
    large = {"database": "sqlite", "cases": {"total": 1_000_000}}
    assert bench.docs_page(large, partial=False) == "benchmarks.md"
    assert bench.docs_page({**MACHINE}, partial=False) == "benchmarks-postgresql.md"
    assert bench.docs_page(large, partial=True) is None
    assert bench.docs_page(small, partial=False) is None
    assert bench.docs_page(small, partial=False, force=True) == "benchmarks.md"


def test_it_reads_the_cpu_model_and_the_ram(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n")
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:        8152384 kB\nMemFree:          123 kB\n")
    assert bench._cpu_model(cpuinfo) == "AMD EPYC 7B13"
    assert bench._ram_gb(meminfo) == 7.8
    assert bench._ram_gb(tmp_path / "missing") is None


def test_a_page_says_which_scenarios_were_left_out():
    page = Result("case page", "pages", "GET /cases/<id>/", rates=[25.0], latencies_ms=[20.0] * 10)
    text = bench._markdown(
        {"when": "20261130T150000", "machine": MACHINE}, [page], repeats=3, left_out=["monthly evaluation"]
    )
    assert "Not run this time (`--exclude`): monthly evaluation." in text
    assert "Not run" not in bench._markdown({"when": "20261130T150000", "machine": MACHINE}, [page], repeats=3)
