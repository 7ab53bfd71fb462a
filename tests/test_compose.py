"""compose.yaml (#15) is a valid Compose file, checked by Compose itself: `docker compose
config` when the Compose plugin is installed; otherwise Debian's `docker-compose` (1.29,
installed by .ci/run), whose `config` validates against the Compose Specification schema
it ships, and that schema applied once more with jsonschema. No Docker engine is needed.
Then what the deployment needs: a primary and a streaming replica, Redis, two API
processes reading from the replica, a one-shot loader, and health checks.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.support.environment import PROJECT_ROOT

COMPOSE_FILE = PROJECT_ROOT / "compose.yaml"
DEBIAN_SCHEMA = Path("/usr/lib/python3/dist-packages/compose/config/compose_spec.json")


def _plugin() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(
        ["docker", "compose", "version"],  # noqa: S607
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def _config_command() -> list[str] | None:
    if _plugin():
        return ["docker", "compose", "-f", str(COMPOSE_FILE), "config", "-q"]
    if shutil.which("docker-compose") is not None:
        return ["docker-compose", "-f", str(COMPOSE_FILE), "config", "-q"]
    return None


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def test_docker_compose_config_accepts_the_file() -> None:
    command = _config_command()
    if command is None:
        pytest.skip(
            "neither `docker compose` nor `docker-compose` is installed (.ci/run installs it)"
        )
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)  # noqa: S603
    assert result.returncode == 0, result.stderr


def test_the_file_matches_the_compose_specification_schema(compose: dict[str, Any]) -> None:
    if not DEBIAN_SCHEMA.is_file():
        pytest.skip(f"{DEBIAN_SCHEMA} missing: install Debian's docker-compose (.ci/run does)")
    # The file names its draft by a URI jsonschema does not know; it is draft 2019-09.
    validator = jsonschema.Draft201909Validator(json.loads(DEBIAN_SCHEMA.read_text()))
    validator.validate(compose)
    broken = copy.deepcopy(compose)
    broken["services"]["api"]["deploy"]["replicas"] = "two"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(broken)


def test_the_deployment_has_every_part_with_health_checks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"primary", "replica", "redis", "loader", "sync", "api"}
    for name in ("primary", "replica", "redis", "api"):
        assert services[name]["healthcheck"]["test"], name
    api = services["api"]
    assert api["deploy"]["replicas"] == 2
    environment = api["environment"]
    assert "@primary:5432" in environment["DATABASE_URL"]
    assert "@replica:5432" in environment["DATABASE_REPLICA_URL"]
    assert environment["REDIS_URL"].startswith("redis://redis:")
    assert api["depends_on"]["loader"]["condition"] == "service_completed_successfully"
    assert api["depends_on"]["replica"]["condition"] == "service_healthy"
    loader = services["loader"]
    assert loader["restart"] == "no"
    assert "@primary:5432" in loader["environment"]["DATABASE_URL"]  # loads write the primary
    sync = services["sync"]  # its own long-running service, writing the primary (#23)
    assert sync["entrypoint"] == ["open287g", "sync"]
    assert sync["restart"] == "unless-stopped"
    assert "@primary:5432" in sync["environment"]["DATABASE_URL"]
    assert sync["depends_on"]["loader"]["condition"] == "service_completed_successfully"
    archive = sync["environment"]["OPEN287G_SYNC_ARCHIVE_DIR"]
    assert f"sync-archive:{archive}" in sync["volumes"]
    replica_start = " ".join(services["replica"]["entrypoint"])
    assert "pg_basebackup" in replica_start
    assert " -R " in replica_start
    assert "wal_level=replica" in " ".join(services["primary"]["entrypoint"])
