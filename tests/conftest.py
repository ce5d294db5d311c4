from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from django.core.cache import cache

from accounts import throttles
from tests.factories import StaffFactory, UserFactory

# Runner image, hello exercise, Redis, Celery workers, and catching grading messages.
pytest_plugins = ["tests.celery_fixtures"]

DATABASE_FIXTURES = {"db", "transactional_db", "django_db_setup", "live_server"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database-tests-only",
        action="store_true",
        help="run only the tests that use the database (the test command's second pass, on "
        "PostgreSQL: the tests that never touch a database ran in the first pass), but not "
        "the browser tests nor the checks of the course's content",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--database-tests-only"):
        return
    keep, drop = [], []
    for item in items:
        uses_database = item.get_closest_marker("django_db") or DATABASE_FIXTURES.intersection(
            getattr(item, "fixturenames", ())
        )
        # Two kinds run once, in the first pass: checks of the course's content, and browser
        # tests, which check what people see and do in Chromium through views whose database
        # work the view and service tests cover on PostgreSQL.
        once = item.get_closest_marker("course_content") or item.get_closest_marker("browser")
        (keep if uses_database and not once else drop).append(item)
    items[:] = keep
    config.hook.pytest_deselected(items=drop)


@pytest.fixture(autouse=True)
def empty_cache():
    """Start and end each test with an empty cache: throttles and rate limits count there."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def throttle_clock(monkeypatch):
    """Run the throttles' clock at the real pace from ten seconds into an hour, so ten seconds
    into a window of every size the site uses (60, 300, 3600 s): a test's events then fall in
    one window, instead of being weighted by the sliding estimate (1.99 for 2) whenever a test
    happens to cross the end of a window. A test may still move the clock on, as before
    (`accounts.throttles.time.time`)."""
    start = time.time()
    base = start - start % 3600 + 10
    monkeypatch.setattr(throttles, "time", SimpleNamespace(time=lambda: base + time.time() - start))


@pytest.fixture
def learner(db):
    return UserFactory()


@pytest.fixture
def staff(db):
    return StaffFactory()


@pytest.fixture
def learner_client(client, learner):
    client.force_login(learner)
    return client


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client
