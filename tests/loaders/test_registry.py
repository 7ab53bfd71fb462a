"""Every data source is declared once (`loaders/registry.py`): its dataset, its `load`
command and how its files are removed."""

from __future__ import annotations

import argparse

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from open287g.db.ingest.removal import NotRemovable, remove_source_files
from open287g.loaders.cli import add_load_commands
from open287g.loaders.registry import REMOVALS, SOURCES
from tests.support.database import create_database_copy, drop_database


def _load_commands() -> list[str]:
    parser = argparse.ArgumentParser()
    add_load_commands(parser.add_subparsers())
    load = next(
        action.choices["load"]
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    kinds = next(a for a in load._actions if isinstance(a, argparse._SubParsersAction))
    return list(kinds.choices)


def test_each_source_is_one_load_command_in_registry_order() -> None:
    datasets = [source.dataset for source in SOURCES]
    assert len(set(datasets)) == len(datasets)
    assert _load_commands() == datasets


def test_every_source_but_the_moas_says_how_it_is_removed() -> None:
    assert [d for d, step in REMOVALS.items() if step is None] == ["moas"]


async def test_a_file_of_a_source_that_cannot_be_removed_is_refused(
    server_url: URL, template_url: URL
) -> None:
    url = await create_database_copy(server_url, template_url)
    engine = create_async_engine(url, poolclass=NullPool)
    count = "SELECT count(*) FROM source_files"
    try:
        async with engine.begin() as conn:
            file_id = (
                await conn.execute(
                    text(
                        "INSERT INTO source_files (dataset, name, sha256, bytes, fetched_at)"
                        " VALUES ('moas', 'a.pdf', 'a', 1, now()) RETURNING id"
                    )
                )
            ).scalar_one()
            before = (await conn.execute(text(count))).scalar_one()
        with pytest.raises(NotRemovable, match="moas files cannot be removed"):
            async with engine.begin() as conn:
                await remove_source_files(conn, [file_id], REMOVALS)
        async with engine.connect() as conn:
            assert (await conn.execute(text(count))).scalar_one() == before
    finally:
        await engine.dispose()
        await drop_database(server_url, url)
