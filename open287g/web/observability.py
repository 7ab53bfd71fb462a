"""What operators see of the traffic: one structured log line per request, and per-route
request duration histograms and replica gauges for /metrics (Prometheus text format).

A log line says what was answered, not who asked or what for: route template (never the
path a client typed), method, status, duration, whether the cache answered, the data
version and the server that was read. No query string, no client address, no headers.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from open287g.db.queries.freshness import Freshness, StaleRule

ACCESS_LOGGER = "open287g.access"
# Seconds; cache hits sit in the first buckets, exports and uncached GraphQL further up.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    total: int = 0
    sum: float = 0.0

    def observe(self, seconds: float) -> None:
        self.total += 1
        self.sum += seconds
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self.counts[i] += 1
                break


class Durations:
    """Request durations by route template (a bounded label set: templates, `unmatched`)."""

    def __init__(self) -> None:
        self.routes: dict[str, Histogram] = {}

    def observe(self, route: str, seconds: float) -> None:
        histogram = self.routes.get(route)
        if histogram is None:
            histogram = self.routes[route] = Histogram()
        histogram.observe(seconds)

    def prometheus(self) -> Iterator[str]:
        yield "# HELP open287g_http_request_duration_seconds Time to answer, by route template."
        yield "# TYPE open287g_http_request_duration_seconds histogram"
        for route, histogram in sorted(self.routes.items()):
            cumulative = 0
            for bound, count in zip(BUCKETS, histogram.counts, strict=True):
                cumulative += count
                yield (
                    f'open287g_http_request_duration_seconds_bucket{{route="{route}",le="{bound}"}}'
                    f" {cumulative}"
                )
            yield (
                f'open287g_http_request_duration_seconds_bucket{{route="{route}",le="+Inf"}}'
                f" {histogram.total}"
            )
            name = "open287g_http_request_duration_seconds"
            yield f'{name}_sum{{route="{route}"}} {histogram.sum:.6f}'
            yield f'{name}_count{{route="{route}"}} {histogram.total}'


def replica_metrics(status: dict[str, Any] | None) -> Iterator[str]:
    """Gauges from `ReadRouter.status()`; nothing when no replica is configured."""
    if status is None:
        return
    gauges = (
        ("replica_up", "1 while the read replica answers.", int(status["state"] == "ok")),
        (
            "reads_from_replica",
            "1 while API reads go to the replica, 0 while they go to the primary.",
            int(status["serving_reads_from"] == "replica"),
        ),
        ("replica_lag_bytes", "WAL the replica has not replayed yet.", status["lag_bytes"]),
        (
            "replica_lag_seconds",
            "Age of the last replayed commit while WAL waits to be replayed (0 when caught up).",
            status["lag_seconds"],
        ),
        (
            "replica_data_version",
            "Data version the replica has replayed.",
            status["replica_data_version"],
        ),
        ("replica_failovers_total", "Times reads moved to the primary.", status["failovers"]),
    )
    for name, help_text, value in gauges:
        if value is None:
            continue  # not measured (e.g. the replica or the primary is out)
        kind = "counter" if name.endswith("_total") else "gauge"
        yield f"# HELP open287g_{name} {help_text}"
        yield f"# TYPE open287g_{name} {kind}"
        yield f"open287g_{name} {value}"


def sync_metrics(fresh: Freshness, rule: StaleRule) -> Iterator[str]:
    """Gauges of `open287g sync`'s record (db/queries/freshness.py); the timestamps only
    once a sync has run."""
    gauges: list[tuple[str, str, float | None]] = [
        (
            "sync_last_check_timestamp_seconds",
            "When the sync last read ICE's page (Unix time).",
            fresh.last_check_at.timestamp() if fresh.last_check_at else None,
        ),
        (
            "sync_last_success_timestamp_seconds",
            "When a sync pass last succeeded (Unix time).",
            fresh.last_success_at.timestamp() if fresh.last_success_at else None,
        ),
        ("sync_failed_checks", "Failed sync passes in a row.", fresh.failed_checks),
        (
            "sync_quarantined_files",
            "Downloaded lists quarantined and not superseded by a later loaded list.",
            len(fresh.open_quarantine()),
        ),
        (
            "sync_stale",
            "1 when the sync failed OPEN287G_SYNC_STALE_AFTER passes in a row, or has not"
            " succeeded for that many intervals.",
            int(fresh.status(rule) == "stale"),
        ),
    ]
    for name, help_text, value in gauges:
        if value is None:
            continue
        yield f"# HELP open287g_{name} {help_text}"
        yield f"# TYPE open287g_{name} gauge"
        yield (
            f"open287g_{name} {value:.3f}"
            if isinstance(value, float)
            else f"open287g_{name} {value}"
        )


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the access fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = getattr(record, "access", None)
        if isinstance(fields, dict):
            entry.update(fields)
        else:
            entry["message"] = record.getMessage()
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def log_config(fmt: str, level: str) -> dict[str, Any]:
    """uvicorn's `log_config` (applied in every worker process): JSON lines, or plain text
    (`--log-format plain`), for our loggers and uvicorn's alike."""
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"}
        if fmt == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": formatter},
        "handlers": {
            "main": {
                "class": "logging.StreamHandler",
                "formatter": "main",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["main"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            # Requests are logged at INFO: shown unless the level is set above it.
            ACCESS_LOGGER: {"propagate": True},
        },
    }


def plain_access(fields: dict[str, Any]) -> str:
    return " ".join(f"{key}={value}" for key, value in fields.items())
