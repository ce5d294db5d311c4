"""Throttles for the account pages: failed log-ins and sign-ups, per client address.

Each throttle is a sliding-window counter in Django's cache: events are counted per fixed
window with atomic add/incr (so requests sent at once cannot slip past a limit), and the
previous window's count is weighted by how much of it still overlaps the last `window`
seconds, so a burst at the border of two windows cannot double the limit. A lost cache (a
restart, eviction) only forgets counts, never blocks anyone.

The cache must be shared by all web processes for the limits to be exact (Redis, as
scripts/up configures); with a per-process cache each process counts on its own.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


@dataclass(frozen=True)
class Throttle:
    """At most `limit` events per `window` seconds for each key."""

    scope: str
    limit: int
    window: int

    def hit(self, key: str, *, now: float | None = None) -> None:
        """Count one event for `key`."""
        current, _, _ = self._slots(key, now)
        # Kept for two windows: the next window still weighs this one's count.
        cache.add(current, 0, timeout=2 * self.window)
        try:
            cache.incr(current)
        except ValueError:  # expired between add and incr
            cache.set(current, 1, timeout=2 * self.window)

    def count(self, key: str, *, now: float | None = None) -> float:
        """Return the events of `key` in the last `window` seconds (estimated)."""
        current, previous, elapsed = self._slots(key, now)
        counts = cache.get_many([current, previous])
        return counts.get(current, 0) + counts.get(previous, 0) * (1 - elapsed)

    def retry_after(self, key: str, *, now: float | None = None) -> int:
        """Return the seconds until `key` may have another event; 0 when it may now."""
        if self.limit <= 0:
            return self.window
        current, previous, elapsed = self._slots(key, now)
        counts = cache.get_many([current, previous])
        this, last = counts.get(current, 0), counts.get(previous, 0)
        if this + last * (1 - elapsed) < self.limit:
            return 0
        if this < self.limit:
            # The previous window's weight falls until the sum is under the limit.
            needed = 1 - (self.limit - this) / last
            wait = (needed - elapsed) * self.window
        else:
            # Only in the next window, once this one's weight has fallen far enough.
            wait = (1 - elapsed) * self.window + (1 - self.limit / this) * self.window
        return max(1, math.floor(wait) + 1)  # the limit is reached at `wait`, not passed

    def reset(self, key: str, *, now: float | None = None) -> None:
        """Forget the events of `key`."""
        current, previous, _ = self._slots(key, now)
        cache.delete_many([current, previous])

    def _slots(self, key: str, now: float | None) -> tuple[str, str, float]:
        now = time.time() if now is None else now
        index, into = divmod(now, self.window)
        # Hashed: usernames may hold characters some cache backends refuse in keys.
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        prefix = f"throttle:{self.scope}:{digest}"
        return f"{prefix}:{int(index)}", f"{prefix}:{int(index) - 1}", into / self.window


def login_ip_throttle() -> Throttle:
    """Return the throttle of failed log-ins per client address."""
    return Throttle("login-ip", settings.LOGIN_FAILURES_PER_IP, settings.LOGIN_FAILURE_WINDOW)


def login_username_throttle() -> Throttle:
    """Return the throttle of failed log-ins per username, whichever address they come from."""
    return Throttle(
        "login-user", settings.LOGIN_FAILURES_PER_USERNAME, settings.LOGIN_FAILURE_WINDOW
    )


def signup_throttle() -> Throttle:
    """Return the throttle of accounts created per client address."""
    return Throttle("signup-ip", settings.SIGNUPS_PER_IP, settings.SIGNUP_WINDOW)


def client_ip(request: HttpRequest) -> str:
    """Return the address a request came from, as a throttle key.

    X-Forwarded-For is read only when TRUSTED_PROXY_COUNT says proxies of ours add to it,
    and then only the entry the outermost of them added: everything left of it is whatever
    the client chose to send. An IPv6 address stands for its /64, which one client owns.
    """
    address = request.META.get("REMOTE_ADDR", "")
    hops = settings.TRUSTED_PROXY_COUNT
    if hops > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= hops:
            address = forwarded[-hops]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def username_key(username: str) -> str:
    """Return a username as a throttle key: "Ada " and "ada" are one account to guess at."""
    return username.strip().casefold()[:150]


def wait_text(seconds: int) -> str:
    """Return "4 minutes" or "30 seconds"."""
    if seconds >= 90:
        minutes = math.ceil(seconds / 60)
        return f"{minutes} minutes"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
