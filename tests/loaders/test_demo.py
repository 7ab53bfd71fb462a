"""The shipped demo data set loads like real files and is labelled as demo everywhere."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from open287g.app import create_app
from open287g.config import Settings
from open287g.db.queries.changes import DEMO_NOTICE
from open287g.db.queries.ids import to_global_id
from open287g.loaders.errors import LoadError
from open287g.loaders.ice287g.cli import DEMO_DIR
from open287g.loaders.ice287g.load import load_sources, plan_sources
from tests.support.database import create_database_copy, drop_database
from tests.support.environment import PROJECT_ROOT
from tests.support.fixtures import ICE_DIR, ICE_FILES, write

needs_real_data = pytest.mark.skipif(not ICE_DIR.is_dir(), reason=f"{ICE_DIR} not present")


async def test_demo_data_is_labelled_on_every_answer(engine: AsyncEngine) -> None:
    results = await load_sources(engine, plan_sources([str(DEMO_DIR)]), Settings(), is_demo=True)
    assert [r.planned.kind.value for r in results] == ["PARTICIPATING", "PENDING", "PARTICIPATING"]
    transport = httpx.ASGITransport(app=create_app(engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        page = (await http.get("/v1/agreements")).json()
        datasets = (await http.get("/v1/datasets")).json()["data"]
        graphql = await http.post("/graphql", json={"query": "{ notice datasets { isDemo } }"})
        catalog = (await http.get("/data.json")).json()
    assert page["notice"] == DEMO_NOTICE
    assert all(row["agency_name"].endswith("(DEMO)") for row in page["data"])
    assert all(d["is_demo"] for d in datasets)
    assert graphql.json()["data"]["notice"] == DEMO_NOTICE
    assert all(d["isDemo"] for d in graphql.json()["data"]["datasets"])
    assert all("DEMO DATA" in d["title"] for d in catalog["dataset"])


# Demo and real lists never mix; any dataset can be removed (#9.5) ------------------------

FIRST_REAL = ICE_FILES[:4]
SNAPSHOT_OF_AGREEMENTS = (
    "SELECT g.state_code, a.name, CAST(g.model_code AS text), CAST(g.status AS text),"
    " g.signed_on, g.first_seen, g.last_seen"
    " FROM agreements g JOIN agencies a ON a.id = g.agency_id"
)
SNAPSHOT_OF_JURISDICTIONS = "SELECT CAST(kind AS text), state_code, name FROM jurisdictions"


@pytest.fixture
async def fresh(server_url: URL, template_url: URL) -> AsyncIterator[tuple[URL, AsyncEngine]]:
    """A database of its own for each test (these tests load and remove whole datasets)."""
    url = await create_database_copy(server_url, template_url)
    engine = create_async_engine(url, poolclass=NullPool)
    yield url, engine
    await engine.dispose()
    await drop_database(server_url, url)


async def _rows(engine: AsyncEngine, sql: str) -> set[tuple[Any, ...]]:
    async with engine.connect() as conn:
        return {tuple(row) for row in await conn.execute(text(sql))}


async def _scalar(engine: AsyncEngine, sql: str) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(text(sql))).scalar_one()


async def _load_demo(engine: AsyncEngine) -> None:
    await load_sources(engine, plan_sources([str(DEMO_DIR)]), Settings(), is_demo=True)


@needs_real_data
async def test_real_lists_replace_the_demo_as_if_it_never_was(
    fresh: tuple[URL, AsyncEngine], server_url: URL, template_url: URL, tmp_path: Path
) -> None:
    _, engine = fresh
    await _load_demo(engine)
    demo_files = await _scalar(engine, "SELECT count(*) FROM source_files WHERE is_demo")
    assert demo_files == 3
    # A real file that fails leaves the demo exactly as it was (same transaction).
    broken = write(tmp_path, "participatingAgencies07012025am.xlsx", b"a,b\n1,2\n")
    with pytest.raises(LoadError):
        await load_sources(engine, plan_sources([str(broken)]), Settings())
    assert await _scalar(engine, "SELECT count(*) FROM source_files WHERE is_demo") == 3

    results = await load_sources(engine, plan_sources([str(p) for p in FIRST_REAL]), Settings())
    assert results[0].removed_demo is not None
    assert results[0].removed_demo.deleted["agreement"] == 8
    assert all(r.removed_demo is None for r in results[1:])
    assert await _scalar(engine, "SELECT count(*) FROM source_files WHERE is_demo") == 0
    assert await _scalar(engine, "SELECT count(*) FROM agencies WHERE name LIKE '%(DEMO)'") == 0

    # The same files into a database that never saw the demo: the same data.
    clean_url = await create_database_copy(server_url, template_url)
    clean = create_async_engine(clean_url, poolclass=NullPool)
    try:
        await load_sources(clean, plan_sources([str(p) for p in FIRST_REAL]), Settings())
        for sql in (SNAPSHOT_OF_AGREEMENTS, SNAPSHOT_OF_JURISDICTIONS):
            assert await _rows(engine, sql) == await _rows(clean, sql)
    finally:
        await clean.dispose()
        await drop_database(server_url, clean_url)

    transport = httpx.ASGITransport(app=create_app(engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        page = (await http.get("/v1/agreements?limit=1000")).json()
        stats = (await http.get("/v1/stats/agreements?group_by=status&count_by=list_rows")).json()
        changes = (await http.get("/v1/changes?since=0&limit=1000")).json()
        while changes["has_more"]:
            more = await http.get(f"/v1/changes?since={changes['next_since']}&limit=1000")
            changes = {**more.json(), "data": changes["data"] + more.json()["data"]}
    assert "notice" not in page
    assert not any(row["agency_name"].endswith("(DEMO)") for row in page["data"])
    assert sum(row["count"] for row in stats["data"]) == len(page["data"])
    tombstones = {c["entity"] for c in changes["data"] if c["op"] == "DELETE"}
    assert {"agreement", "agency", "dataset"} <= tombstones


@needs_real_data
async def test_demo_is_refused_where_real_lists_are_loaded(
    fresh: tuple[URL, AsyncEngine],
) -> None:
    _, engine = fresh
    await load_sources(engine, plan_sources([str(FIRST_REAL[0])]), Settings())
    before = await _rows(engine, SNAPSHOT_OF_AGREEMENTS)
    with pytest.raises(LoadError, match="never mixed"):
        await _load_demo(engine)
    assert await _rows(engine, SNAPSHOT_OF_AGREEMENTS) == before
    assert await _scalar(engine, "SELECT count(*) FROM source_files WHERE is_demo") == 0


def _cli(url: URL, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPEN287G_")}
    env["DATABASE_URL"] = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return subprocess.run(  # noqa: S603 (this interpreter, fixed arguments)
        [sys.executable, "-m", "open287g", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
    )


async def test_datasets_remove_from_the_command_line(
    fresh: tuple[URL, AsyncEngine], tmp_path: Path
) -> None:
    url, engine = fresh
    await _load_demo(engine)
    policies = tmp_path / "policies.csv"
    policies.write_text(
        "jurisdiction_level,state,name,status,declared_sanctuary,source_url\n"
        "state,IL,Illinois,RESTRICTS,true,https://example.org/il\n"
        "city,TX,Crystal City,LIMITS,false,https://example.org/crystal-city\n"
    )
    loaded = _cli(url, "load", "policies", str(policies))
    assert loaded.returncode == 0, loaded.stderr
    listed = _cli(url, "datasets", "list")
    assert listed.returncode == 0, listed.stderr
    assert "policies.csv" in listed.stdout
    assert str(tmp_path) not in listed.stdout
    policy_file = await _scalar(engine, "SELECT id FROM source_files WHERE dataset = 'policies'")
    seq = await _scalar(engine, "SELECT max(seq) FROM changes")

    removed = _cli(url, "datasets", "remove", to_global_id("Dataset", policy_file))
    assert removed.returncode == 0, removed.stderr
    assert "deleted: dataset 1, jurisdiction 1, policy 2;" in removed.stdout
    assert await _scalar(engine, "SELECT count(*) FROM policies") == 0
    assert (
        await _scalar(engine, "SELECT count(*) FROM jurisdictions WHERE name = 'Crystal City'") == 0
    )
    tombstones = await _rows(
        engine, f"SELECT entity FROM changes WHERE seq > {seq} AND op = 'DELETE'"
    )
    assert tombstones == {("policy",), ("jurisdiction",), ("dataset",)}

    gone = _cli(url, "datasets", "remove", "--demo")
    assert gone.returncode == 0, gone.stderr
    assert await _scalar(engine, "SELECT count(*) FROM agreements") == 0
    assert await _scalar(engine, "SELECT count(*) FROM source_files") == 0
    # States and counties are reference data; what the lists and files named is gone.
    assert await _scalar(engine, "SELECT count(*) FROM jurisdictions WHERE kind = 'COUNTY'") == 3143
    assert (
        await _scalar(
            engine, "SELECT count(*) FROM jurisdictions WHERE kind IN ('PLACE', 'TRIBAL')"
        )
        == 0
    )

    missing = _cli(url, "datasets", "remove", "999999")
    assert missing.returncode == 1
    assert "no dataset with id 999999" in missing.stderr
    assert _cli(url, "datasets", "remove", "Agreement:1").returncode == 2


# make run loads what the README examples need (#9.11) ------------------------------------


def _make_run(project: Path, *args: str) -> str:
    shutil.copy(PROJECT_ROOT / "Makefile", project / "Makefile")
    (project / "pyproject.toml").touch()
    (project / ".venv").mkdir(exist_ok=True)
    (project / ".venv" / ".installed").touch()  # nothing to install in a dry run
    done = subprocess.run(  # noqa: S603
        ["make", "-n", "run", *args],  # noqa: S607 (make from PATH, as a user runs it)
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_make_run_loads_the_policy_csv_beside_the_project(tmp_path: Path) -> None:
    project = tmp_path / "main"
    project.mkdir()
    alone = _make_run(project)
    assert "load ice-287g --demo-if-offline" in alone
    assert "for policies in ; do" in alone  # a fresh clone: no policy file, no step

    shared = tmp_path / "shared" / "data"
    (shared / "policies").mkdir(parents=True)
    (shared / "ice-287g").mkdir()
    (shared / "policies" / "brief-named-states.csv").write_text("x\n")
    beside = _make_run(project)
    assert "for policies in ../shared/data/policies/brief-named-states.csv" in beside
    named = _make_run(project, f"DATA={shared}")
    assert f"load ice-287g {shared}/ice-287g" in named
    assert f"for policies in {shared}/policies/brief-named-states.csv" in named
    folder = _make_run(project, f"DATA={shared}/ice-287g")
    assert f"load ice-287g {shared}/ice-287g\n" in folder
    assert "brief-named-states.csv" in folder
    assert "for policies in ;" in _make_run(project, "POLICIES=")
