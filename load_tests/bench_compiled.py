"""Benchmark of issues #11 and #25's targets, in one run on the 54 shared ICE snapshots (and the
shared policy CSV, so that `policy`/`policyStatus` find something): requests/s of each row and
the ratios the issues set, each against a rate measured in the same run, then #25's target
rows on their own.

Each server runs on core 0 (one process: `open287g serve` with the response cache off, then
on, then on with the default access log (level info, written to a file); the one-statement
asyncpg floors of `load_tests.floor` under uvicorn (the REST page's same JSON, and a page of
the plain agreement -> agency -> jurisdiction table set built from our data); PostGraphile 4
on our schema and on the plain one, installed by npm on first use, skipped with a message
without npm), wrk on core 1 (`-t1 -c16`, a short warm-up before each row). PostgreSQL is
shared and not pinned. Besides requests/s, each row prints the server process's CPU time
per request (PostgreSQL's share not included): on a machine shared with other work the
steadier figure, and the one the access log targets are also read by (no PostgreSQL work
in a cached answer). "New document"
rows put a unique alias (a counter, from a wrk Lua script) on the top field of every request,
so no parse, plan or response cache can answer them; "same document" rows repeat one body.
Afterwards each row is requested a few times through `load_tests.statement_count` (a proxy in
front of PostgreSQL): SQL statements per request, and in brackets the transaction control
and pool pings around them.

    python -m load_tests.bench_compiled [SECONDS]
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode

import asyncpg
import httpx
import orjson
from sqlalchemy.engine import URL

from load_tests import floor, postgraphile
from load_tests.bench_http import PAGE_QUERY
from load_tests.bench_ice_load import DEFAULT_FOLDER, scratch_database
from load_tests.bench_scale import WrkResult, _libpq, _load, _parse, _server_env
from load_tests.server import PROJECT_ROOT, free_port, start_server, wait_ready
from load_tests.statement_count import StatementCounter
from open287g.db.queries.ids import to_global_id

POLICIES = DEFAULT_FOLDER.parent / "policies" / "brief-named-states.csv"
SERVER_CORE, CLIENT_CORE = 0, 1
CONNECTIONS = 16
WARM_UP_SECONDS = 2
COUNTED_REQUESTS = 4
MARKER = "__alias__"
REST_PAGE = "/v1/agreements?limit=100"
AGENCIES_QUERY = (
    "{ agencies(first: 50) { edges { node { policyStatus jurisdiction { name parent { name } }"
    " agreements(first: 10) { edges { node { model { code } status } } } } } } }"
)
JURISDICTIONS_QUERY = (
    "{ jurisdictions(filter: {kind: STATE}) { edges { node { policy { status sourceTitle }"
    " agencies(first: 20) { totalCount edges { node { name } } } } } } }"
)
NODE_QUERY = '{ node(id: "%s") { ... on Agreement { agency { name } policyStatus } } }'

# The processes a row can be answered by.
UNCACHED, CACHED, LOGGED = "uncached", "cached", "cached, access log on"
FLOOR_APP, POSTGRAPHILE, POSTGRAPHILE_PLAIN = "floor", "postgraphile", "postgraphile, plain"
SERVERS = (UNCACHED, CACHED, LOGGED, FLOOR_APP, POSTGRAPHILE, POSTGRAPHILE_PLAIN)


def _lua_string(text: str) -> str:
    assert "]==]" not in text
    return f"[==[{text}]==]"


@dataclass(frozen=True)
class Target:
    path: str
    query: str | None = None  # a GraphQL document, POSTed as JSON; else a GET of `path`
    unique: bool = False  # a new document every request: a counted alias on the top field

    def body(self, alias: str = "a0") -> bytes | None:
        if self.query is None:
            return None
        query = self.query.replace("{ ", f"{{ {alias}: ", 1) if self.unique else self.query
        return orjson.dumps({"query": query})

    def lua(self) -> str:
        """The wrk script: nothing for a GET, a fixed body, or a body per request."""
        if self.query is None:
            return ""
        post = 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        body = self.body(MARKER)
        assert body is not None
        if not self.unique:
            return post + f"wrk.body = {_lua_string(body.decode())}\n"
        before, after = body.decode().split(MARKER)
        return post + (
            f"local n = 0\nlocal before, after = {_lua_string(before)}, {_lua_string(after)}\n"
            "request = function()\n  n = n + 1\n"
            '  return wrk.format(nil, nil, nil, before .. "a" .. n .. after)\nend\n'
        )


@dataclass(frozen=True)
class Row:
    label: str
    server: str  # one of SERVERS
    target: Target
    of: str | None = None  # the label of the row this row's rate is a ratio of
    goal: float | None = None  # the target for that ratio


HEALTHZ = "/healthz"
HEALTHZ_LOGGED = "/healthz, access log on"
FLOOR = "floor: one statement, asyncpg"
FLOOR_PLAIN = "floor: one statement, plain tables"
REST_UNCACHED = "REST page of 100, uncached"
PAGE_NEW = "GraphQL page of 100, new document"
POSTGRAPHILE_PAGE = "PostGraphile 4 page of 100, new doc"
POSTGRAPHILE_SAME = "PostGraphile 4 page of 100, same doc"
POSTGRAPHILE_PLAIN_PAGE = "PostGraphile 4 plain schema, new doc"
GET_CACHED = "GraphQL GET page of 100, cached"
POST_CACHED = "GraphQL POST page of 100, cached"
REST_CACHED = "REST page of 100, cached"
POST_CACHED_LOGGED = "GraphQL POST page, cached, log on"
REST_CACHED_LOGGED = "REST page of 100, cached, log on"

# Issue #25's targets: (what, row, of row, target ratio, also by CPU time), printed after
# the table; a target of None is context. By CPU only where PostgreSQL has no share.
TARGETS = (
    ("cold REST page / one-statement page, plain tables", REST_UNCACHED, FLOOR_PLAIN, 0.8, False),
    ("cold REST page / one-statement page, same JSON", REST_UNCACHED, FLOOR, None, False),
    (
        "cold GraphQL page / PostGraphile 4, plain schema",
        PAGE_NEW,
        POSTGRAPHILE_PLAIN_PAGE,
        1.0,
        False,
    ),
    ("cold GraphQL page / PostGraphile 4, our schema", PAGE_NEW, POSTGRAPHILE_PAGE, 1.5, False),
    ("cached REST page, access log on / off", REST_CACHED_LOGGED, REST_CACHED, 0.8, True),
    ("cached GraphQL page, access log on / off", POST_CACHED_LOGGED, POST_CACHED, 0.8, True),
    ("/healthz, access log on / off", HEALTHZ_LOGGED, HEALTHZ, None, True),
)
AGENCIES = "agencies(50) x agreements(10), new doc"
JURISDICTIONS = "jurisdictions(STATE) x agencies(20), new doc"
NODE = "node(id:) agreement, new doc"


def rows(node_id: str) -> tuple[Row, ...]:
    """The table, in the order it is printed."""
    page, page_get = Target("/graphql", PAGE_QUERY), "/graphql?" + urlencode({"query": PAGE_QUERY})
    theirs, rest = postgraphile.PAGE_QUERY, Target(REST_PAGE)
    plain = Target(f"{floor.PLAIN_PATH}?limit=100")
    return (
        Row(HEALTHZ, CACHED, Target("/healthz")),
        Row(FLOOR, FLOOR_APP, rest),
        Row(FLOOR_PLAIN, FLOOR_APP, plain),
        Row(REST_UNCACHED, UNCACHED, rest, FLOOR_PLAIN, 0.8),
        Row(PAGE_NEW, UNCACHED, Target("/graphql", PAGE_QUERY, True), POSTGRAPHILE_PLAIN_PAGE, 1.0),
        Row("GraphQL page of 100, same document", UNCACHED, page, FLOOR, 0.5),
        Row(POSTGRAPHILE_PAGE, POSTGRAPHILE, Target("/graphql", theirs, True)),
        # Context, no target: how much of PostGraphile's time goes to a new document.
        Row(POSTGRAPHILE_SAME, POSTGRAPHILE, Target("/graphql", theirs), FLOOR),
        Row(POSTGRAPHILE_PLAIN_PAGE, POSTGRAPHILE_PLAIN, Target("/graphql", theirs, True)),
        Row(AGENCIES, UNCACHED, Target("/graphql", AGENCIES_QUERY, True), PAGE_NEW, 0.5),
        Row(JURISDICTIONS, UNCACHED, Target("/graphql", JURISDICTIONS_QUERY, True), PAGE_NEW, 0.5),
        Row(NODE, UNCACHED, Target("/graphql", NODE_QUERY % node_id, True), PAGE_NEW, 0.5),
        Row(GET_CACHED, CACHED, Target(page_get), HEALTHZ, 0.6),
        Row(POST_CACHED, CACHED, page, HEALTHZ, 0.6),
        Row(REST_CACHED, CACHED, rest, HEALTHZ, 0.6),
        Row(HEALTHZ_LOGGED, LOGGED, Target("/healthz"), HEALTHZ),
        Row(POST_CACHED_LOGGED, LOGGED, page, POST_CACHED, 0.8),
        Row(REST_CACHED_LOGGED, LOGGED, rest, REST_CACHED, 0.8),
    )


def _cores() -> tuple[int | None, int | None]:
    if len(os.sched_getaffinity(0)) < 2:
        print("fewer than 2 cores: server and wrk are not pinned", file=sys.stderr)
        return None, None
    return SERVER_CORE, CLIENT_CORE


@contextmanager
def _on_core(core: int | None) -> Iterator[None]:
    """Processes started inside inherit this thread's CPU affinity (taskset, for commands the
    helpers build themselves)."""
    before = os.sched_getaffinity(0)
    if core is not None:
        os.sched_setaffinity(0, {core})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


@dataclass(frozen=True)
class Measured:
    requests_per_second: float
    errors: int
    cpu_us: float | None  # the server process's CPU time per request, in microseconds


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wrk(base: str, target: Target, seconds: int, core: int | None) -> WrkResult:
    script = PROJECT_ROOT / ".bench" / f"wrk-{os.getpid()}.lua"
    script.parent.mkdir(exist_ok=True)
    script.write_text(target.lua())
    # A slow shape answers in seconds at 16 connections: wrk's 2 s timeout would call that
    # an error (and drop it from the rate).
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "30s"]
    command += ["-s", str(script)]
    if core is not None:
        command = ["taskset", "-c", str(core), *command]
    try:
        done = subprocess.run(  # noqa: S603
            [*command, base + target.path],
            capture_output=True,
            text=True,
            check=False,
            timeout=seconds + 60,
        )
    finally:
        script.unlink()
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr.strip()}")
    result = _parse(done.stdout)
    count = re.search(r"(\d+) requests in", done.stdout)
    return WrkResult(result.requests_per_second, result.errors, int(count[1]) if count else 0)


def _measured(base: str, target: Target, seconds: int, pid: int) -> Measured:
    _, core = _cores()
    before = _cpu_seconds(pid)
    result = _wrk(base, target, seconds, core)
    spent = _cpu_seconds(pid) - before
    cpu = spent / result.requests * 1e6 if result.requests else None
    return Measured(result.requests_per_second, result.errors, cpu)


async def _ask(http: httpx.AsyncClient, base: str, target: Target, alias: str = "a0") -> Any:
    """One request, which must succeed (and, for GraphQL, answer data without errors)."""
    body = target.body(alias)
    answer = await (
        http.get(base + target.path)
        if body is None
        else http.post(
            base + target.path, content=body, headers={"Content-Type": "application/json"}
        )
    )
    if answer.status_code != 200:
        raise RuntimeError(f"{target.path[:60]}: HTTP {answer.status_code}: {answer.text[:300]}")
    if not answer.headers.get("content-type", "").startswith("application/json"):
        return None
    found = answer.json()
    if target.path.startswith("/graphql") and (found.get("errors") or not found.get("data")):
        raise RuntimeError(f"{target.path[:60]}: {answer.text[:300]}")
    return found


def _start(
    server: str, url: URL, port: int, binary: Path | None, log: IO[bytes] | None
) -> subprocess.Popen[bytes]:
    """`server` on the server core (its threads too: they inherit the affinity)."""
    with _on_core(_cores()[0]):
        if server in (UNCACHED, CACHED):
            return start_server(_server_env(url, None, cached=server == CACHED), port)
        if server == LOGGED:  # serve's default log level: one access log line per request
            return start_server(_server_env(url, None, cached=True), port, log, "info")
        if server in (POSTGRAPHILE, POSTGRAPHILE_PLAIN):
            assert binary is not None
            schema = "plain" if server == POSTGRAPHILE_PLAIN else "public"
            return postgraphile.start(binary, _libpq(url), port, schema)
        floor = ["uvicorn", "load_tests.floor:app", "--port", str(port), "--no-access-log"]
        return subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", *floor, "--log-level", "warning", "--loop", "uvloop"],
            env=dict(os.environ, DATABASE_URL=_libpq(url)),
            cwd=PROJECT_ROOT,
        )


@asynccontextmanager
async def _serving(
    server: str, url: URL, binary: Path | None
) -> AsyncIterator[tuple[str, int] | None]:
    """`server` against the database at `url`: its base URL and process id, or None when it
    cannot run here (PostGraphile without npm)."""
    node = server in (POSTGRAPHILE, POSTGRAPHILE_PLAIN)
    if node and binary is None:
        yield None
        return
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = PROJECT_ROOT / ".bench" / f"access-{os.getpid()}.log"
    log_path.parent.mkdir(exist_ok=True)
    with log_path.open("wb") as log:
        process = _start(server, url, port, binary, log)
        try:
            await (postgraphile.wait_ready(base) if node else wait_ready(base, 60))
            yield base, process.pid
        finally:
            process.terminate()  # off the event loop: it may run the statement counter's proxy
            await asyncio.to_thread(process.wait, 30)
    log_path.unlink()


async def _measure(
    base: str, pid: int, chosen: list[Row], seconds: int
) -> tuple[dict[str, Measured], dict[str, Any]]:
    """Each row's answer (checked first, for every row) and wrk result."""
    async with httpx.AsyncClient(timeout=60) as http:
        answers = {row.label: await _ask(http, base, row.target) for row in chosen}
    _, core = _cores()
    results = {}
    for row in chosen:
        await asyncio.to_thread(_wrk, base, row.target, WARM_UP_SECONDS, core)
        results[row.label] = await asyncio.to_thread(_measured, base, row.target, seconds, pid)
        rate = results[row.label].requests_per_second
        print(f"  {row.label:<46} {rate:>9,.0f} req/s", file=sys.stderr, flush=True)
    return results, answers


async def _count(
    base: str, chosen: list[Row], counter: StatementCounter
) -> dict[str, tuple[float, float]]:
    """Statements per request of each row, after two warm-up requests (the first ones
    introspect types and fill caches)."""
    counts = {}
    async with httpx.AsyncClient(timeout=60) as http:
        for row in chosen:
            for n in range(2):
                await _ask(http, base, row.target, f"w{n}")
            await asyncio.sleep(0.3)  # a connection's release may follow its answer
            start = len(counter.executed)
            for n in range(COUNTED_REQUESTS):
                await _ask(http, base, row.target, f"c{n}")
            await asyncio.sleep(0.3)
            work, overhead = counter.since(start)
            counts[row.label] = (work / COUNTED_REQUESTS, overhead / COUNTED_REQUESTS)
    return counts


async def _load_data(url: URL) -> int:
    files = await _load(url, DEFAULT_FOLDER)
    if POLICIES.exists():
        await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "open287g", "load", "policies", str(POLICIES)],
            env=dict(os.environ, DATABASE_URL=_libpq(url)),
            cwd=PROJECT_ROOT,
            check=True,
            capture_output=True,
        )
    return files


async def _node_id(url: URL) -> str:
    """An agreement in a state with a policy (so `policyStatus` follows the fallback). And
    fresh planner statistics first: every contender then gets the same plans."""
    conn = await asyncpg.connect(_libpq(url))
    try:
        await conn.execute("ANALYZE")
        found = await conn.fetchval(
            "SELECT coalesce(min(g.id) FILTER (WHERE p.id IS NOT NULL), min(g.id))"
            " FROM agreements g"
            " LEFT JOIN jurisdictions j ON j.state_code = g.state_code AND j.kind = 'STATE'"
            " LEFT JOIN policies p ON p.jurisdiction_id = j.id"
        )
    finally:
        await conn.close()
    return to_global_id("Agreement", int(found))


def _without_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if k != "id"}
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    return value


def _compare(answers: dict[str, Any]) -> list[str]:
    """The comparisons are only fair if the anchors answer the same data: say when not."""
    problems = []
    if answers.get(FLOOR) and answers[FLOOR]["data"] != answers[REST_UNCACHED]["data"]:
        problems.append("the floor's data differs from the REST page's")
    for label, name in ((POSTGRAPHILE_PAGE, "our"), (POSTGRAPHILE_PLAIN_PAGE, "the plain")):
        theirs = answers.get(label)
        if theirs and _without_ids(theirs["data"]) != _without_ids(answers[PAGE_NEW]["data"]):
            problems.append(f"PostGraphile's page on {name} schema differs from ours (ids aside)")
    return problems


def _table(chosen: tuple[Row, ...], results: dict[str, Measured], counts: dict[str, Any]) -> str:
    lines = [
        f"{'row':<46} {'req/s':>9} {'errors':>6} {'CPU us':>6}  {'ratio':>5} {'of':<35}"
        f" {'target':>6} {'SQL/req (+tx, ping)':>19}"
    ]
    for row in chosen:
        result = results.get(row.label)
        rate = " skipped"
        if result:
            cpu = f"{result.cpu_us:>6,.0f}" if result.cpu_us is not None else f"{'':>6}"
            rate = f"{result.requests_per_second:>9,.0f} {result.errors:>6} {cpu}"
        ratio = target = ""
        if row.of is not None and result and results.get(row.of):
            value = result.requests_per_second / results[row.of].requests_per_second
            ratio = f"{value:.2f}"
            if row.goal is not None:
                target = f"{'ok' if value >= row.goal else 'NO'} {row.goal}"
        work, overhead = counts.get(row.label, (None, None))
        sql = f"{work:g} (+{overhead:g})" if work is not None else ""
        lines.append(
            f"{row.label:<46} {rate:<23}  {ratio:>5} {row.of or '':<35} {target:>6} {sql:>19}"
        )
    return "\n".join(lines)


def _targets(results: dict[str, Measured]) -> str:
    """Issue #25's rows: the ratio of requests/s, and the same ratio from the servers' CPU
    time per request (the inverse ratio: what the rate would be with the core to itself)."""
    lines = [f"{'#25 target':<52} {'req/s':>6} {'by CPU':>6}  target"]
    for what, label, of, goal, cpu in TARGETS:
        mine, theirs = results.get(label), results.get(of)
        if mine is None or theirs is None or not theirs.requests_per_second:
            lines.append(f"{what:<52} {'skipped':>6}")
            continue
        value = mine.requests_per_second / theirs.requests_per_second
        by_cpu = (
            f"{theirs.cpu_us / mine.cpu_us:>6.2f}"
            if cpu and mine.cpu_us and theirs.cpu_us
            else f"{'':>6}"
        )
        verdict = f"{'ok' if value >= goal else 'NO'} >= {goal}" if goal is not None else ""
        lines.append(f"{what:<52} {value:>6.2f} {by_cpu}  {verdict}")
    return "\n".join(lines)


async def _build_plain(url: URL) -> None:
    conn = await asyncpg.connect(_libpq(url))
    try:
        await floor.build_plain(conn)
    finally:
        await conn.close()


async def main(seconds: int) -> None:
    if shutil.which("wrk") is None:
        sys.exit("bench_compiled needs wrk (apt-get install wrk)")
    binary = postgraphile.installed()
    results: dict[str, Measured] = {}
    answers: dict[str, Any] = {}
    counts: dict[str, tuple[float, float]] = {}
    async with scratch_database() as url:
        files = await _load_data(url)
        chosen = rows(await _node_id(url))
        await _build_plain(url)
        for server in SERVERS:
            mine = [row for row in chosen if row.server == server]
            async with _serving(server, url, binary) as serving:
                if serving is not None:
                    measured, answered = await _measure(*serving, mine, seconds)
                    results.update(measured)
                    answers.update(answered)
        counter = StatementCounter.in_front_of(url)
        proxied = await counter.proxied(url)
        try:
            for server in SERVERS:
                mine = [row for row in chosen if row.server == server]
                async with _serving(server, proxied, binary) as serving:
                    if serving is not None:
                        counts.update(await _count(serving[0], mine, counter))
        finally:
            await counter.close()
    # The table last, after every server's start-up banner.
    print(f"\n{files} ICE snapshots + {POLICIES.name}; wrk -t1 -c{CONNECTIONS} -d{seconds}s")
    print(f"servers on core {SERVER_CORE}, wrk on core {CLIENT_CORE} (PostgreSQL unpinned);")
    print("CPU us: the server process's CPU time per request (PostgreSQL's not included)\n")
    print(_table(chosen, results, counts))
    print()
    print(_targets(results))
    for problem in _compare(answers):
        print(f"warning: {problem}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10))
