"""Benchmark: the real server (`open287g serve`, one worker) on the 54 shared ICE snapshots.

Measures requests/s of `/healthz` (the framework floor) and of the GraphQL page of issue #5
(100 agreements with agency and jurisdiction, by GET and by POST), uncached and cached, in
the same run, with wrk when it is installed (`apt-get install wrk`; POSTs through a small
Lua script), otherwise with a slower httpx client (then the numbers are the client's
ceiling as much as the server's: compare ratios only).

    python -m load_tests.bench_http [SECONDS]
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlencode

import httpx
import orjson

from load_tests.bench_ice_load import load_ice_lists, scratch_database
from load_tests.server import database_env, serving

PAGE_QUERY = (
    "{ agreements(first: 100) { edges { node { id status signedOn moaUrl firstSeen lastSeen"
    " model { code } agency { id name type jurisdiction { id name kind stateCode } } } } } }"
)
CONNECTIONS = 16
POST = "POST "  # a target "POST <path> <JSON body>" is posted, anything else is a GET path


def _request(base: str, target: str) -> tuple[str, bytes | None]:
    """The URL and (for a POST) the body of a target."""
    if not target.startswith(POST):
        return base + target, None
    path, _, body = target.removeprefix(POST).partition(" ")
    return base + path, body.encode()


def _wrk(base: str, target: str, seconds: int) -> float:
    url, body = _request(base, target)
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", url]
        if body is not None:
            assert b"]==]" not in body
            script.write(
                'wrk.method = "POST"\n'
                'wrk.headers["Content-Type"] = "application/json"\n'
                f"wrk.body = [==[{body.decode()}]==]\n"
            )
            script.flush()
            command += ["-s", script.name]
        out = subprocess.run(  # noqa: S603
            command, check=True, capture_output=True, text=True
        ).stdout
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if errors:  # counted in Requests/sec: say so rather than report them as answers
        print(f"warning: {target[:60]}: {errors[1]} non-2xx answers", file=sys.stderr)
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(found[1]) if found else 0.0


async def _httpx(base: str, target: str, seconds: int) -> float:
    url, body = _request(base, target)
    done = 0
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(timeout=30) as http:

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                response = await (
                    http.get(url)
                    if body is None
                    else http.post(url, content=body, headers={"Content-Type": "application/json"})
                )
                response.raise_for_status()
                done += 1

        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return done / seconds


async def _measure(
    env: dict[str, str], targets: dict[str, str], seconds: int, tool: str
) -> dict[str, float]:
    """Start a server with `env`, check it answers, and load each target in turn."""
    async with serving(env) as (base, _):
        async with httpx.AsyncClient() as http:
            for name in ("graphql page of 100", "graphql POST page of 100"):
                url, body = _request(base, targets[name])
                check = await (
                    http.get(url)
                    if body is None
                    else http.post(url, content=body, headers={"Content-Type": "application/json"})
                )
                assert len(check.json()["data"]["agreements"]["edges"]) == 100
        results = {}
        for name, target in targets.items():
            if tool == "wrk":
                results[name] = await asyncio.to_thread(_wrk, base, target, seconds)
            else:
                results[name] = await _httpx(base, target, seconds)
        return results


async def main(seconds: int) -> None:
    tool = "wrk" if shutil.which("wrk") else "httpx"
    page = "/graphql?" + urlencode({"query": PAGE_QUERY})
    post_page = f"{POST}/graphql " + orjson.dumps({"query": PAGE_QUERY}).decode()
    targets = {
        "/healthz": "/healthz",
        "graphql page of 100": page,
        "graphql POST page of 100": post_page,
        "rest page of 100": "/v1/agreements?limit=100",
    }
    async with scratch_database() as url:
        await load_ice_lists(url)
        env = database_env(url)
        uncached = await _measure(
            {**env, "OPEN287G_RESPONSE_CACHE": "false"}, targets, seconds, tool
        )
        cached = await _measure({**env, "OPEN287G_RESPONSE_CACHE": "true"}, targets, seconds, tool)
    print(f"HTTP ({tool}, {CONNECTIONS} connections, {seconds} s each, one server worker):")
    for name in targets:
        print(
            f"  {name:<24} uncached {uncached[name]:>9,.0f} req/s"
            f" ({uncached[name] / uncached['/healthz']:.3f} of the floor);"
            f" cached {cached[name]:>9,.0f} req/s"
            f" ({cached[name] / cached['/healthz']:.2f} of that run's floor)"
        )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10))
