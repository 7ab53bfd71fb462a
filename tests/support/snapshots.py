"""A module database holding the 54 real ICE snapshots and nothing else: a copy of the
run's ICE template (tests/support/live.py loads them once per run, where each module that needed
them loaded them again, half a minute or more each).

A module uses it by importing `database_url` (which overrides conftest's empty one, so
conftest's `engine` and `conn` see the snapshots), and loads what else it needs over it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine import URL

from tests.support.database import create_database_copy, drop_database
from tests.support.live import IceTemplate


@pytest.fixture(scope="module")
async def database_url(server_url: URL, ice_template: IceTemplate) -> AsyncIterator[URL]:
    """This module's copy of the ICE template."""
    url = await create_database_copy(server_url, ice_template.url)
    yield url
    await drop_database(server_url, url)
