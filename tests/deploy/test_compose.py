"""compose.yaml: valid by the Compose Specification, restarts and health checks, no secrets."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "tests" / "data" / "compose-spec" / "compose-spec.json"
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY$|AUTH", re.IGNORECASE)
INTERPOLATED = re.compile(r"^\$\{[A-Z_]+(:?[-?][^}]*)?\}$")
URL_USERINFO = re.compile(r"://([^/]*)@")


def load(name: str = "compose.yaml") -> dict:
    return yaml.safe_load((ROOT / name).read_text())


def validation_errors(document: dict) -> list[str]:
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]


@pytest.fixture(scope="module")
def compose() -> dict:
    return load()


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def test_the_compose_file_is_valid_by_the_compose_specification(compose):
    assert validation_errors(compose) == []


def test_the_schema_catches_a_misspelt_key(compose):
    broken = copy.deepcopy(compose)
    broken["services"]["web"]["helthcheck"] = broken["services"]["web"].pop("healthcheck")
    broken["services"]["redis"]["restart"] = ["always"]

    errors = validation_errors(broken)

    assert any("helthcheck" in error for error in errors), errors
    assert any(error.startswith("services/redis/restart") for error in errors), errors


def test_it_runs_the_layout_of_the_docs(services):
    assert set(services) == {
        "proxy", "migrate", "web", "worker", "beat", "grading", "redis", "postgres",
    }  # fmt: skip
    assert services["grading"]["command"][:6] == [
        "celery", "-A", "grading.worker", "worker", "-Q", "grading,interactive",
    ]  # fmt: skip
    assert services["worker"]["command"][:6] == [
        "celery", "-A", "config", "worker", "-Q", "results,celery",
    ]  # fmt: skip
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]


def test_every_service_has_a_restart_policy(services):
    assert {name: s.get("restart") for name, s in services.items() if not s.get("restart")} == {}
    # Only the one-shot migration is left stopped once it is done.
    assert [name for name, s in services.items() if s["restart"] == "no"] == ["migrate"]


def test_every_long_running_service_has_a_health_check(services):
    long_running = [name for name, s in services.items() if s["restart"] != "no"]
    missing = [
        name for name in long_running if not services[name].get("healthcheck", {}).get("test")
    ]
    assert missing == []
    assert "/readyz" in services["web"]["healthcheck"]["test"]
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert "redis-cli ping" in services["redis"]["healthcheck"]["test"][1]


def test_the_health_checks_of_our_image_name_modules_that_exist(services):
    for name, service in services.items():
        test = service.get("healthcheck", {}).get("test", [])
        if test[:3] == ["CMD", "python", "-m"]:
            assert importlib.util.find_spec(test[3]) is not None, (name, test)


def environment_values(services) -> list[tuple[str, str, str]]:
    found = []
    for name, service in services.items():
        environment = service.get("environment", {})
        if isinstance(environment, list):
            environment = dict(item.partition("=")[::2] for item in environment)
        found.extend((name, key, str(value)) for key, value in environment.items())
    return found


def test_no_secret_is_written_into_the_compose_file(services):
    values = environment_values(services)
    secrets = [(s, k, v) for s, k, v in values if SECRET_NAME.search(k)]
    assert {k for _, k, _ in secrets} >= {"POSTGRES_PASSWORD", "REDIS_PASSWORD"}
    assert [(s, k, v) for s, k, v in secrets if not INTERPOLATED.match(v)] == []
    in_urls = [(s, k, m.group(1)) for s, k, v in values if (m := URL_USERINFO.search(v))]
    assert len(in_urls) >= 3  # the database, broker and cache URLs
    # What is left of user:password once the ${...} parts are taken out: no password.
    written = [(s, k, re.sub(r"\$\{[^}]*\}", "", u).partition(":")[2]) for s, k, u in in_urls]
    assert [item for item in written if item[2]] == []
    # And a required secret stops compose when it is missing, rather than being empty.
    postgres = dict((k, v) for s, k, v in values if s == "postgres")
    assert ":?" in postgres["POSTGRES_PASSWORD"]


def test_the_secret_check_catches_a_written_password(services):
    leaky = copy.deepcopy(services)
    leaky["postgres"]["environment"]["POSTGRES_PASSWORD"] = "hunter2"
    leaky["web"]["environment"]["DATABASE_URL"] = "postgres://webcourse:hunter2@postgres/webcourse"

    with pytest.raises(AssertionError):
        test_no_secret_is_written_into_the_compose_file(leaky)


def test_the_example_env_file_holds_no_secret():
    lines = (ROOT / ".env.example").read_text().splitlines()
    settings = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    assert {k: v for k, v in settings.items() if SECRET_NAME.search(k) and v} == {}
    assert {"SECRET_KEY", "POSTGRES_PASSWORD", "REDIS_PASSWORD", "SITE_DOMAIN"} <= set(settings)


def test_every_variable_the_compose_file_reads_is_documented(compose):
    used = set(re.findall(r"\$\{([A-Z_]+)", (ROOT / "compose.yaml").read_text()))
    example = (ROOT / ".env.example").read_text()
    guide = (ROOT / "docs" / "deploy.md").read_text()
    assert {v for v in used if not re.search(rf"^#?{v}=", example, re.M)} == set()
    assert {v for v in used if f"`{v}`" not in guide} == set()


def test_the_grading_worker_reaches_only_the_broker(services):
    grading = services["grading"]
    assert grading["networks"] == ["broker"]
    assert "broker" not in services["postgres"]["networks"]
    assert "broker" in services["redis"]["networks"]
    environment = grading["environment"]
    assert not any("DATABASE" in key or key == "SECRET_KEY" for key in environment)
    assert "env_file" not in grading


def test_the_grading_workers_run_folder_is_at_the_same_path_on_the_host(services):
    # The host's engine mounts run folders by their host path (sandbox/runner.py, RunDirs).
    scratch = [v for v in services["grading"]["volumes"] if "GRADING_SCRATCH_DIR" in v]
    assert len(scratch) == 1
    source, _, target = scratch[0].partition("}:")
    assert source + "}" == target
    assert services["grading"]["environment"]["SANDBOX_RUN_DIR"].startswith(target)


def test_only_the_proxy_publishes_ports(services):
    assert {name for name, s in services.items() if s.get("ports")} == {"proxy"}


def test_the_database_media_and_broker_keep_their_data_in_named_volumes(compose, services):
    assert {"postgres-data", "redis-data", "media"} <= set(compose["volumes"])
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "media:/var/lib/webcourse/media" in services["web"]["volumes"]
