"""Documentation cannot fall behind the code.

- Every setting, command and endpoint is named in README.md or docs/*.md.
- Every example runs, against the shared real data as `make run DATA=../shared/data` loads
  it (the 54 ICE snapshots and every policy CSV), and its shown answer is compared with
  the service's (the approach of datasette's tests/test_docs.py: the Markdown's own code
  blocks are parsed and run through the real app; `tests/support/docs_examples.py` says how an
  example is marked and rewrites the answers). An answer may leave out keys (an object
  shown is contained in the real one), but every value and every list it shows is exact,
  lists with every element in order.
  - Every `sh` block's `.venv/bin/open287g …` lines must parse with the real command line,
    and its `curl 'http://127.0.0.1:8000/…'` lines must be answered 200 by the app.
  - A `graphql` block without the marker fails the test: nothing unchecked is shown.
- `/docs/{name}` serves every page, rendered from the same file, with working links
  between pages and any raw HTML in the Markdown shown as text.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import Route

from open287g.app import create_app
from open287g.cli import build_parser
from open287g.config import Settings
from open287g.loaders.policies import load_policy_document
from open287g.loaders.sources import read_path
from open287g.pages import docs as docs_pages
from tests.support.docs_examples import ALL_FILES, DOC_FILES, LOCAL, Block, answer, blocks, examples
from tests.support.environment import SHARED_DATA
from tests.support.fixtures import ICE_FILES
from tests.support.snapshots import database_url

ALL_TEXT = "\n".join(path.read_text() for path in ALL_FILES)
__all__ = ["database_url"]  # this module's database: a copy of the ICE template
POLICY_FILES = sorted((SHARED_DATA / "policies").glob("*.csv"))


# Every setting, command and endpoint is documented ------------------------------------------


def _env_name(name: str) -> str:
    alias = Settings.model_fields[name].validation_alias
    return alias if isinstance(alias, str) else name.upper()


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_documented(field: str) -> None:
    assert f"`{_env_name(field)}`" in ALL_TEXT, f"document {_env_name(field)} in docs/"


def _commands(parser: argparse.ArgumentParser, prefix: str = "open287g") -> list[str]:
    found: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append(f"{prefix} {name}")
                found.extend(_commands(sub, f"{prefix} {name}"))
    return found


@pytest.mark.parametrize("command", _commands(build_parser()))
def test_every_command_is_documented(command: str) -> None:
    assert command in ALL_TEXT, f"document `{command}` in docs/"


@pytest.mark.parametrize("path", [r.path for r in create_app().routes if isinstance(r, Route)])
def test_every_endpoint_is_documented(path: str) -> None:
    assert f"`{path}`" in ALL_TEXT, f"document {path} in docs/"


# The examples --------------------------------------------------------------------------------


EXAMPLE_FILES = ALL_FILES  # README.md and docs/*.md
EXAMPLES = [pair for path in EXAMPLE_FILES for pair in examples(path)]


def test_there_are_examples_and_every_graphql_block_is_one() -> None:
    assert len(EXAMPLES) >= 10
    for path in EXAMPLE_FILES:
        for block in blocks(path):
            if block.info[:1] == ("graphql",):
                assert "example" in block.info, f"{block.where}: mark it `graphql example`"


def contained(shown: Any, actual: Any, where: str = "$") -> list[str]:
    """Where `shown` differs from `actual`: objects may leave keys out, all else is exact."""
    if isinstance(shown, dict):
        if not isinstance(actual, dict):
            return [f"{where}: shown an object, got {json.dumps(actual)[:200]}"]
        problems = []
        for key, value in shown.items():
            if key not in actual:
                problems.append(f"{where}.{key}: not in the answer")
            else:
                problems.extend(contained(value, actual[key], f"{where}.{key}"))
        return problems
    if isinstance(shown, list):
        if not isinstance(actual, list) or len(shown) != len(actual):
            return [f"{where}: shown {json.dumps(shown)[:200]}, got {json.dumps(actual)[:300]}"]
        pairs = enumerate(zip(shown, actual, strict=True))
        return [p for i, (s, a) in pairs for p in contained(s, a, f"{where}[{i}]")]
    if shown != actual:
        return [f"{where}: shown {json.dumps(shown)}, got {json.dumps(actual)}"]
    return []


def test_contained_is_exact_but_for_keys_left_out() -> None:
    assert contained({"a": [1, {"b": 2}]}, {"a": [1, {"b": 2, "c": 3}], "d": 4}) == []
    assert contained({"a": [1]}, {"a": [1, 2]})
    assert contained({"a": 1}, {"a": 2})
    assert contained({"a": 1}, {"b": 1})


@pytest.fixture(scope="module")
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """The app over the shared real data, loaded as `make run DATA=../shared/data` does."""
    assert ICE_FILES, "the shared ICE lists must be beside the project"
    assert POLICY_FILES, "the shared policy CSVs must be beside the project"
    # The module's database holds the 54 snapshots already (the ICE template).
    for path in POLICY_FILES:
        await load_policy_document(engine, read_path(str(path), 10**7), Settings())
    app = create_app(Settings(rate_limit_per_second=0, public_url=LOCAL), engine=engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=LOCAL) as http:
        yield http


@pytest.mark.parametrize(("example", "shown_answer"), EXAMPLES, ids=[e.where for e, _ in EXAMPLES])
async def test_example_answers_as_shown(
    client: httpx.AsyncClient, example: Block, shown_answer: Block
) -> None:
    response = await answer(client, example)
    assert response.status_code == 200, f"{example.where}: {response.text[:500]}"
    shown = json.loads(shown_answer.text)
    problems = contained(shown, response.json())
    assert not problems, f"{example.where} answers otherwise:\n" + "\n".join(problems[:20])


def _lines(block: Block) -> list[str]:
    """A shell block's commands: continuation lines joined, comments dropped."""
    joined = block.text.replace("\\\n", " ")
    commands = (line.split(" #")[0].strip() for line in joined.splitlines())
    return [command for command in commands if command and not command.startswith("#")]


SHELL = [b for path in EXAMPLE_FILES for b in blocks(path) if b.info[:1] in (("sh",), ("shell",))]


@pytest.mark.parametrize("block", SHELL, ids=[b.where for b in SHELL])
async def test_shell_examples_parse_and_their_urls_answer(
    client: httpx.AsyncClient, block: Block
) -> None:
    parser = build_parser()
    for line in _lines(block):
        words = shlex.split(line)
        if words[0] in (".venv/bin/open287g", "open287g"):
            assert words[0] == ".venv/bin/open287g", f"{block.where}: `open287g` is in .venv/bin"
            try:
                parser.parse_args(words[1:])
            except SystemExit as stop:
                pytest.fail(f"{block.where}: `{line}` does not parse ({stop})")
        elif words[0] == "curl":
            for url in (w for w in words if w.startswith(LOCAL)):
                response = await client.get(url.removeprefix(LOCAL))
                assert response.status_code == 200, f"{block.where}: {url}"


# /docs serves the same pages -------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self.hrefs.append(str(found["href"]))
        if found.get("id"):
            self.ids.add(str(found["id"]))


async def test_docs_serves_every_page_and_links_between_them_work(
    client: httpx.AsyncClient,
) -> None:
    index = await client.get("/docs")
    assert index.status_code == 200
    parsed: dict[str, _Links] = {}
    for path in DOC_FILES:
        assert f'href="/docs/{path.stem}"' in index.text, path.name
        page = await client.get(f"/docs/{path.stem}")
        assert page.status_code == 200, path.name
        assert "Content-Security-Policy" in page.headers
        parsed[path.stem] = _Links()
        parsed[path.stem].feed(page.text)
    for name, links in parsed.items():
        for href in links.hrefs:
            parts = urlsplit(href)
            assert ".md" not in parts.path, f"/docs/{name} links a file: {href}"
            if parts.scheme or not parts.path.startswith("/docs/"):
                continue
            target = parts.path.removeprefix("/docs/")
            if target == "api":
                continue
            assert target in parsed, f"/docs/{name} links {href}: no such page"
            if parts.fragment:
                assert parts.fragment in parsed[target].ids, f"/docs/{name}: {href}"
    assert (await client.get("/docs/no-such-page")).status_code == 404
    assert (await client.get("/docs/..%2FREADME")).status_code == 404


def test_markdown_html_is_text_and_javascript_links_are_not_links(tmp_path: Path) -> None:
    page = tmp_path / "hostile.md"
    page.write_text(
        "# Hostile\n\n<script>alert(1)</script>\n\n[x](javascript:alert(2)) "
        "[y](graphql.md#ids) [z](../README.md)\n\n<img src=x onerror=alert(3)>\n"
    )
    html = docs_pages._load(page, 0).html
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<img" not in html
    assert 'href="javascript' not in html
    assert 'href="/docs/graphql#ids"' in html
    assert re.search(r'href="/docs"', html)


def test_readme_is_a_short_front_door_to_every_page() -> None:
    """README.md says what this is, the two commands and where everything else is (SPEC:
    "README.md is the short front door"); the rest lives in docs/."""
    text = ALL_FILES[0].read_text()
    assert len(text.splitlines()) <= 150
    assert "make run" in text
    assert "make test" in text
    linked = set(re.findall(r"\(docs/([a-z0-9-]+)\.md(?:#[\w-]*)?\)", text))
    assert linked == {path.stem for path in DOC_FILES}
