"""Benchmarks of the working-time engine (run by `make bench`, see civicgrid/bench.py)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from civicgrid.bench import Scenario

BATCH = 20_000
_state: dict = {}


def _setup() -> None:
    from civicgrid.workcalendar.selectors import get_calendar

    calendar = get_calendar()  # the cached, database-backed calendar, as requests use it
    tz = ZoneInfo("Asia/Shanghai")
    rnd = random.Random(20260215)
    begin = datetime(2026, 1, 1, tzinfo=tz)
    cases = []
    for _ in range(BATCH):
        # Starts over all of 2026 (Spring Festival, National Day, make-up days), any minute.
        start = begin + timedelta(minutes=rnd.randrange(365 * 24 * 60))
        unit = rnd.choice(("working_hours", "working_days", "natural_hours"))
        amount = rnd.choice((0.5, 1, 2, 3, 5, 7, 15)) if unit == "working_days" else rnd.randint(1, 120) / 2
        pauses = ()
        if rnd.random() < 0.2:  # some cases carry a deferral
            pause_start = start + timedelta(hours=rnd.randint(0, 48))
            pauses = ((pause_start, pause_start + timedelta(hours=rnd.randint(1, 72))),)
        cases.append((start, amount, unit, pauses))
    _state.update(calendar=calendar, cases=cases)


def _deadlines() -> int:
    add = _state["calendar"].add
    for start, amount, unit, pauses in _state["cases"]:
        add(start, amount, unit, pauses)
    return len(_state["cases"])


def _elapsed() -> int:
    calendar = _state["calendar"]
    for start, amount, unit, pauses in _state["cases"]:
        calendar.elapsed(start, start + timedelta(hours=amount * 24), unit, pauses)
    return len(_state["cases"])


SCENARIOS = [
    Scenario(
        name="deadline computations",
        unit="deadlines",
        setup=_setup,
        run=_deadlines,
        description=f"{BATCH:,} add() calls, mixed units, starts over 2026 incl. holidays, 20% with a pause",
    ),
    Scenario(
        name="elapsed computations",
        unit="spans",
        setup=_setup,
        run=_elapsed,
        description=f"{BATCH:,} elapsed() calls over the same starts, spans up to 60 days",
    ),
]
