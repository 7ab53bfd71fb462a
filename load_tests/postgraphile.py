"""PostGraphile 4, the anchor the GraphQL targets of issues #11 and #25 are ratios of: installed
by npm into the git-ignored `.bench/postgraphile/` on first use, run as one Node process
against the benchmark's database with its introspected schema of `public` (ours), or of
`plain` (the plain agreement -> agency -> jurisdiction table set of `load_tests.floor`).

`PAGE_QUERY` is the equivalent of `load_tests.bench_http.PAGE_QUERY` in PostGraphile's
names, aliased so that its answer has the same shape as ours (ids aside: PostGraphile's
`nodeId` and our global ids encode differently; the top field keeps its name so that the
benchmark can put a unique alias there). The plain table set names its tables and columns
so that the same document asks it the same page.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from load_tests.server import PROJECT_ROOT

PACKAGE = "postgraphile@4"
FOLDER = PROJECT_ROOT / ".bench" / "postgraphile"
BINARY = FOLDER / "node_modules" / ".bin" / "postgraphile"

PAGE_QUERY = (
    "{ allAgreements(first: 100) { edges { node { id: nodeId status signedOn"
    " moaUrl firstSeen lastSeen model: programModelByModelCode { code }"
    " agency: agencyByAgencyId { id: nodeId name type"
    " jurisdiction: jurisdictionByJurisdictionId { id: nodeId name kind stateCode } } } } } }"
)


def installed() -> Path | None:
    """The postgraphile executable, installing it with npm if needed; None (and the reason
    on stderr) when there is no npm or the install fails: the caller skips PostGraphile."""
    if BINARY.exists():
        return BINARY
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        print(
            f"PostGraphile skipped: npm and node are needed to install {PACKAGE}", file=sys.stderr
        )
        return None
    FOLDER.mkdir(parents=True, exist_ok=True)
    print(f"installing {PACKAGE} into {FOLDER} ...", file=sys.stderr, flush=True)
    done = subprocess.run(  # noqa: S603
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(FOLDER), PACKAGE],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not BINARY.exists():
        print(f"PostGraphile skipped: npm install failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    return BINARY


def start(
    binary: Path, database_url: str, port: int, schema: str = "public"
) -> subprocess.Popen[bytes]:
    """One Node process (no cluster), query log off, production mode; the caller stops it."""
    command = [
        str(binary),
        "--connection",
        database_url,
        "--schema",
        schema,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--disable-query-log",
        "--disable-default-mutations",
    ]
    env = dict(os.environ, NODE_ENV="production")
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)  # noqa: S603


async def wait_ready(base: str, seconds: float = 60.0) -> None:
    """Introspection takes a few seconds: poll until a trivial query answers."""
    async with httpx.AsyncClient() as http:
        for _ in range(int(seconds * 10)):
            try:
                answer = await http.post(f"{base}/graphql", json={"query": "{ __typename }"})
                if answer.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"PostGraphile at {base} did not answer within {seconds} s")
