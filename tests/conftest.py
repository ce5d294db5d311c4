from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.factories import StaffFactory, UserFactory

# Runner image, hello exercise, Redis, Celery workers, and catching grading messages.
pytest_plugins = ["tests.celery_fixtures"]


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
