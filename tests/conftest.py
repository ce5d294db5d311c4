from __future__ import annotations

import pytest
from django.core.cache import cache

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
