"""A small fixed-window rate limiter on Django's cache.

    rate = parse_rate("20/h")                  # 20 per hour; also "5/m", "100/d", "10/15m"
    if not rate_hit("portal-ip", ip, rate):    # counts this hit, False once over the limit
        ... answer 429 ...

A window is a fixed slot of the rate's length (an hour from the full hour): a client can at
worst make twice the limit across a slot boundary, which is good enough to stop a script and
never bothers a person. Keys hold a hash of the identity (an IP or a phone number), never the
number itself. The counts live in the default cache: with several server processes, configure
a shared cache (Redis, or Django's database cache) or each process counts on its own.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


def parse_rate(value: str | None) -> Rate | None:
    """'20/h' → Rate(20, 3600); empty or '0/…' → None (no limit). Anything else raises ValueError."""
    if not value:
        return None
    match = _RATE.match(str(value))
    if not match:
        raise ValueError(f"rate {value!r} should look like 20/h, 5/m, 100/d or 10/15m")
    count, multiple, unit = int(match[1]), int(match[2] or 1), match[3]
    if count == 0:
        return None
    return Rate(count, multiple * _UNITS[unit])


def rate_setting(name: str, default: str) -> Rate | None:
    """The rate in the Django setting `name` (a string such as "20/h"), else `default`."""
    return parse_rate(getattr(settings, name, default))


def rate_hit(scope: str, identity: str | None, rate: Rate | None, *, now: float | None = None) -> bool:
    """Count one hit of `identity` in `scope`; True while within the rate. No rate or no identity: True."""
    if rate is None or not identity:
        return True
    now = time.time() if now is None else now
    slot = int(now // rate.seconds)
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{identity}".encode()).hexdigest()[:32]
    key = f"ratelimit:{scope}:{digest}:{rate.seconds}:{slot}"
    cache.add(key, 0, timeout=rate.seconds + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=rate.seconds + 5)
        count = 1
    return count <= rate.count


def retry_after(rate: Rate, *, now: float | None = None) -> int:
    """Seconds until the current window ends."""
    now = time.time() if now is None else now
    return max(int(rate.seconds - now % rate.seconds), 1)
