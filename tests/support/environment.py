"""What every test process shares, set before any app is made: the environment the apps
read, the project's paths and whether this run is CI (where a skip is a failure)."""

from __future__ import annotations

import os
from pathlib import Path

# Tests load data and read it back at once: the response cache must see every load.
os.environ.setdefault("OPEN287G_VERSION_CHECK_SECONDS", "0")
# One test client hammers one app from one address: rate limits only where a test asks.
os.environ.setdefault("OPEN287G_RATE_LIMIT_PER_SECOND", "0")
# Apps made in tests use the in-process cache; only the Redis test talks to Redis.
REDIS_URL_FOR_TESTS = os.environ.pop("REDIS_URL", None)


PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The shared data beside the project (`make mutate` runs the tests from a copy elsewhere).
SHARED_DATA = Path(os.environ.get("OPEN287G_SHARED_DATA", PROJECT_ROOT.parent / "shared" / "data"))


IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
