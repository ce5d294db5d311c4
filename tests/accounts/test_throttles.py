from __future__ import annotations

import pytest
from django.test import RequestFactory

from accounts.throttles import Throttle, client_ip, username_key, wait_text

T0 = 1_000_000 * 300.0  # the start of a 300-second window


@pytest.fixture
def throttle() -> Throttle:
    return Throttle("test", limit=3, window=300)


def test_it_trips_at_the_limit_and_says_how_long_to_wait(throttle):
    for _ in range(2):
        throttle.hit("ip", now=T0)
    assert throttle.retry_after("ip", now=T0) == 0

    throttle.hit("ip", now=T0)

    assert throttle.count("ip", now=T0) == 3
    # All three are in this window; they start weighing less once the next window starts.
    assert throttle.retry_after("ip", now=T0) == 301
    assert throttle.retry_after("ip", now=T0 + 200) == 101
    assert throttle.retry_after("ip", now=T0 + 301) == 0


def test_it_resets_once_a_whole_window_has_passed(throttle):
    for _ in range(3):
        throttle.hit("ip", now=T0)

    assert throttle.retry_after("ip", now=T0 + 299) > 0
    assert throttle.count("ip", now=T0 + 600) == 0
    assert throttle.retry_after("ip", now=T0 + 600) == 0


def test_a_burst_at_the_border_of_two_windows_cannot_double_the_limit(throttle):
    for _ in range(3):
        throttle.hit("ip", now=T0 + 299)

    # One second into the next window the last one's events still count almost fully:
    # one more fits, not a whole new limit's worth.
    assert throttle.count("ip", now=T0 + 301) == pytest.approx(3 * (1 - 1 / 300))
    assert throttle.retry_after("ip", now=T0 + 301) == 0
    throttle.hit("ip", now=T0 + 301)
    assert throttle.retry_after("ip", now=T0 + 301) > 0


def test_keys_and_scopes_are_counted_apart(throttle):
    for _ in range(3):
        throttle.hit("ip-a", now=T0)

    assert throttle.retry_after("ip-b", now=T0) == 0
    assert Throttle("other", limit=3, window=300).retry_after("ip-a", now=T0) == 0


def test_reset_forgets_a_key(throttle):
    for _ in range(3):
        throttle.hit("ip", now=T0)

    throttle.reset("ip", now=T0)

    assert throttle.retry_after("ip", now=T0) == 0


def test_a_limit_of_zero_refuses_everything():
    assert Throttle("test", limit=0, window=60).retry_after("ip", now=T0) == 60


def request(remote: str, forwarded: str | None = None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


def test_without_a_trusted_proxy_a_forwarded_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0

    assert client_ip(request("203.0.113.7", "198.51.100.1")) == "203.0.113.7"


def test_behind_one_proxy_only_the_address_it_added_counts(settings):
    settings.TRUSTED_PROXY_COUNT = 1

    # The client sent "1.2.3.4" itself; the proxy appended the address it saw.
    assert client_ip(request("127.0.0.1", "1.2.3.4, 198.51.100.9")) == "198.51.100.9"
    assert client_ip(request("127.0.0.1", "198.51.100.9")) == "198.51.100.9"


def test_behind_two_proxies_the_outer_ones_entry_counts(settings):
    settings.TRUSTED_PROXY_COUNT = 2

    assert client_ip(request("10.0.0.2", "1.2.3.4, 198.51.100.9, 10.0.0.1")) == "198.51.100.9"


def test_a_request_that_bypassed_the_proxy_counts_by_its_own_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1

    assert client_ip(request("203.0.113.7")) == "203.0.113.7"


def test_an_ipv6_client_counts_by_its_64_network(settings):
    settings.TRUSTED_PROXY_COUNT = 0

    first = client_ip(request("2001:db8:1:2::1"))
    second = client_ip(request("2001:db8:1:2:ffff::9"))

    assert first == second == "2001:db8:1:2::/64"
    assert client_ip(request("::ffff:203.0.113.7")) == "203.0.113.7"


def test_a_malformed_address_shares_one_bucket(settings):
    settings.TRUSTED_PROXY_COUNT = 1

    assert client_ip(request("127.0.0.1", "not-an-address")) == "unknown"


def test_usernames_differing_in_case_or_spaces_are_one_key():
    assert username_key(" Ada ") == username_key("ada")


@pytest.mark.parametrize(
    ("seconds", "text"), [(1, "1 second"), (45, "45 seconds"), (240, "4 minutes")]
)
def test_waits_are_said_in_words(seconds, text):
    assert wait_text(seconds) == text
