"""Tests for the hello exercise: they run against the learner's app over HTTP."""

import pytest
from grader import expect


def test_index_greets_the_world(client):
    """GET / answers 200 with "Hello, world!"."""
    expect(client.get("/"), status=200, contains="Hello, world!")


@pytest.mark.points(2)
def test_hello_greets_by_name_in_json(client):
    """GET /hello/ada answers {"message": "Hello, ada!"}."""
    expect(client.get("/hello/ada"), status=200, json={"message": "Hello, ada!"})


@pytest.mark.points(2)
@pytest.mark.visibility("hidden")
def test_hello_keeps_accented_names(client):
    """GET /hello/Zoë answers {"message": "Hello, Zoë!"}."""
    expect(client.get("/hello/Zoë"), status=200, json={"message": "Hello, Zoë!"})


@pytest.mark.visibility("hidden")
def test_unknown_paths_are_not_found(client):
    """GET /no-such-page answers 404."""
    expect(client.get("/no-such-page"), status=404)
