"""The runnable examples of README.md and docs/*.md, for tests/test_docs.py, and a tool to
write their answers from a database holding the shared real data:

    make run DATA=../shared/data          # or any database loaded the same way
    DATABASE_URL=… .venv/bin/python -m tests.support.docs_examples

rewrites every `json answer` block with what the service answers now, keeping the keys it
showed (`{}` shows the whole answer); review the diff (an answer that changed is news
about the data or a bug, never a formality).

An example is a fenced block whose info string ends in `example` (`graphql example`: POSTed
to /graphql; `http example`: one `GET /path?query` line), followed by its `json answer`.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from markdown_it import MarkdownIt

PROJECT_ROOT = Path(__file__).resolve().parents[2]
README = PROJECT_ROOT / "README.md"
DOC_FILES = sorted((PROJECT_ROOT / "docs").glob("*.md"))
ALL_FILES = [README, *DOC_FILES]
LOCAL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 0-based line of the opening fence
    end: int  # 0-based line after the closing fence
    info: tuple[str, ...]  # the fence's info string, split
    text: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(PROJECT_ROOT)}:{self.line + 1}"


def blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a page, as the renderer of /docs parses them."""
    tokens = MarkdownIt("commonmark").parse(path.read_text())
    return [
        Block(path, t.map[0], t.map[1], tuple(t.info.split()), t.content)
        for t in tokens
        if t.type == "fence" and t.map
    ]


def examples(path: Path) -> list[tuple[Block, Block]]:
    found: list[tuple[Block, Block]] = []
    page = blocks(path)
    for i, block in enumerate(page):
        if "example" not in block.info[1:]:
            continue
        answer = page[i + 1] if i + 1 < len(page) else None
        if answer is None or answer.info != ("json", "answer"):
            raise ValueError(f"{block.where}: an example is followed by its `json answer` block")
        found.append((block, answer))
    return found


async def answer(client: httpx.AsyncClient, example: Block) -> httpx.Response:
    if example.info[0] == "graphql":
        return await client.post("/graphql", json={"query": example.text})
    if example.info[0] != "http":
        raise ValueError(f"{example.where}: an example is `graphql` or `http`")
    method, target = example.text.strip().split(maxsplit=1)
    if method != "GET":
        raise ValueError(f"{example.where}: GET examples only")
    return await client.get(target)


def project(actual: Any, old: Any) -> Any:
    """The answer to show: the actual one, keeping only the keys the old answer showed (an
    empty old answer shows everything), so a page's choice of what to show survives."""
    if isinstance(actual, dict) and isinstance(old, dict) and old:
        return {k: project(v, old[k]) for k, v in actual.items() if k in old}
    if isinstance(actual, list) and isinstance(old, list) and old:
        return [project(v, old[min(i, len(old) - 1)]) for i, v in enumerate(actual)]
    return actual


def shown(value: Any, indent: str = "") -> str:
    """An answer as the docs show it: JSON, each value on one line when it fits in 88
    characters, else its members one per line, indented by two spaces."""
    flat = json.dumps(value, ensure_ascii=False)
    if len(indent) + len(flat) <= 88 or not isinstance(value, dict | list) or not value:
        return flat
    inner = indent + "  "
    if isinstance(value, dict):
        members = [f"{inner}{json.dumps(k)}: {shown(v, inner).lstrip()}" for k, v in value.items()]
        return "{\n" + ",\n".join(members) + f"\n{indent}}}"
    return "[\n" + ",\n".join(inner + shown(v, inner) for v in value) + f"\n{indent}]"


async def _update() -> None:
    from open287g.app import create_app
    from open287g.config import Settings

    app = create_app(Settings(rate_limit_per_second=0, public_url=LOCAL, response_cache=False))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=LOCAL) as client,
    ):
        for path in ALL_FILES:
            lines = path.read_text().splitlines(keepends=True)
            for example, old in reversed(examples(path)):
                response = await answer(client, example)
                response.raise_for_status()
                body = response.json()
                if "errors" in body:
                    raise ValueError(f"{example.where}: {body['errors']}")
                body = project(body, json.loads(old.text))
                lines[old.line + 1 : old.end - 1] = [shown(body) + "\n"]
            path.write_text("".join(lines))


if __name__ == "__main__":
    asyncio.run(_update())
