"""What operators see of the traffic: one structured log line per request, and per-route
request duration histograms and replica gauges for /metrics (Prometheus text format).

A log line says what was answered, not who asked or what for: route template (never the
path a client typed), method, status, duration, whether the cache answered, the data
version and the server that was read. No query string, no client address, no headers.

The access log does not go through `logging` on the request path: `AccessLog` formats the
line and enqueues it; a thread writes what is queued in batches (`AccessLog` below).
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from open287g.db.queries.freshness import Freshness, StaleRule

ACCESS_LOGGER = "open287g.access"
# Lines waiting for the writer at most (~200 bytes each); past it a line is dropped and
# counted (`open287g_access_log_dropped_total`) rather than make a request wait.
MAX_QUEUED_LINES = 50_000
WRITE_INTERVAL_SECONDS = 0.05  # how long a line may wait for the writer
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


class AccessLog:
    """One line per request, written off the request path (a JSON log line formatted and
    written through `logging` cost as much as serving a cached answer).

    `request` formats the line (the same as `JsonFormatter`, or the plain format, would)
    and appends it to a bounded queue; a daemon thread writes what is queued every
    `interval` seconds, in one write, to standard error (the stream the log configuration
    of `log_config` writes to). A full queue drops the line and counts it in `dropped`
    (exposed in /metrics): the log never makes a request wait. `close` (the app's
    shutdown, and at exit) writes what is left. Whether requests are logged at all
    follows the `open287g.access` logger's level, as before (`--log-level warning`).
    """

    def __init__(
        self,
        fmt: str = "json",
        max_lines: int = MAX_QUEUED_LINES,
        interval: float = WRITE_INTERVAL_SECONDS,
    ) -> None:
        self.json = fmt == "json"
        self.max_lines = max_lines
        self.interval = interval
        self.dropped = 0  # by the request path (the queue was full)
        self.unwritten = 0  # by the writer (the stream failed)
        self.logger = logging.getLogger(ACCESS_LOGGER)
        self._queue: deque[str] = deque()
        self._second = -1
        self._stamp = ""
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False

    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)

    def request(self, fields: dict[str, Any]) -> None:
        """Format one request's line and queue it (the request path's whole share)."""
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second = second
            self._stamp = (
                dt.datetime.fromtimestamp(second, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
                if self.json
                else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
            )
        millis = int((now - second) * 1000)
        if self.json:
            line = orjson.dumps(
                {
                    "time": f"{self._stamp}.{millis:03d}+00:00",
                    "level": "info",
                    "logger": ACCESS_LOGGER,
                    **fields,
                }
            ).decode()
        else:
            line = f"{self._stamp},{millis:03d} INFO {ACCESS_LOGGER} {plain_access(fields)}"
        self.put(line)

    def put(self, line: str) -> None:
        if self._closed:  # after shutdown: nothing drains the queue, write at once
            self._write([line])
            return
        if len(self._queue) >= self.max_lines:
            self.dropped += 1
            return
        self._queue.append(line)
        if self._thread is None:
            self._start()

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="access-log", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()

    def flush(self) -> None:
        """Write every queued line now."""
        with self._write_lock:
            queue = self._queue
            lines = [queue.popleft() for _ in range(len(queue))]
            if lines:
                self._write(lines)

    def _write(self, lines: list[str]) -> None:
        try:
            stream = sys.stderr  # looked up each time: a test may capture it
            stream.write("\n".join(lines) + "\n")
            stream.flush()
        except (OSError, ValueError):  # a closed or broken stream: the lines are lost
            self.unwritten += len(lines)

    def close(self) -> None:
        """Stop the writer and write what is left; later lines are written at once."""
        self._closed = True
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self.flush()

    def prometheus(self) -> Iterator[str]:
        yield (
            "# HELP open287g_access_log_dropped_total Access log lines dropped: the writer's"
            " queue was full (or its stream broken)."
        )
        yield "# TYPE open287g_access_log_dropped_total counter"
        yield f"open287g_access_log_dropped_total {self.dropped + self.unwritten}"
