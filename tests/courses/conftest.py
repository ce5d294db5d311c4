from __future__ import annotations

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def empty_cache():
    """Start and end with an empty cache: throttles count there, by addresses that repeat."""
    cache.clear()
    yield
    cache.clear()
