"""`/docs/{page}`: the project's Markdown documentation (`docs/*.md`, the same files a reader
of the repository opens) rendered to HTML, so the server and GitHub show the same words.

Rendering is safe by construction: markdown-it-py with raw HTML disabled, so any `<tag>` in
a page is text, and its default link validation, so a `javascript:` link is not a link.
Links between pages are written as relative `.md` file names (they work on GitHub) and
rewritten here to `/docs/<name>`; a link to another file of the repository points at
nothing this server serves and is dropped to plain text.

Where the files are: beside the package in a checkout (`<project>/docs`); the Docker image
copies them into the package (`open287g/pages/docs`), which is looked at first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from open287g.pages.render import error_page, page

_PACKAGED = Path(__file__).with_name("docs")
_CHECKOUT = Path(__file__).resolve().parents[2] / "docs"
NAME = re.compile(r"[a-z0-9-]{1,64}")
_MD_LINK = re.compile(r"^(?:\./|docs/)?(?P<name>[a-z0-9-]+)\.md(?P<fragment>#[\w-]*)?$")


def docs_dir() -> Path:
    return _PACKAGED if _PACKAGED.is_dir() else _CHECKOUT


@dataclass(frozen=True)
class Doc:
    name: str  # the file's stem: /docs/<name>
    title: str  # the first heading
    summary: str  # the first sentence after it, as plain text
    html: Markup


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table")
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("heading_open", _heading_open)
    return md


def slug(text: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def _link_open(self: Any, tokens: list[Token], idx: int, options: Any, env: dict[str, Any]) -> str:
    token = tokens[idx]
    href = str(token.attrGet("href") or "")
    found = _MD_LINK.match(href)
    if found:
        token.attrSet("href", f"/docs/{found['name']}{found['fragment'] or ''}")
    elif href.startswith("../") or href.endswith(".md"):
        token.attrSet("href", f"/docs{href[href.find('#') :] if '#' in href else ''}")
    return str(self.renderToken(tokens, idx, options, env))


def _heading_open(
    self: Any, tokens: list[Token], idx: int, options: Any, env: dict[str, Any]
) -> str:
    inline = tokens[idx + 1]
    tokens[idx].attrSet("id", slug(inline.content.replace("`", "")))
    return str(self.renderToken(tokens, idx, options, env))


@cache
def _load(path: Path, mtime_ns: int) -> Doc:
    text = path.read_text(encoding="utf-8")
    tokens = _markdown().parse(text)
    title, summary = path.stem, ""
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and title == path.stem:
            title = tokens[i + 1].content
        elif token.type == "paragraph_open" and title != path.stem:
            words = " ".join(tokens[i + 1].content.replace("`", "").split())
            summary = re.split(r"(?<=[.])\s", words)[0].rstrip(".") + "."
            break
    return Doc(path.stem, title, summary, Markup(_markdown().render(text)))  # noqa: S704


def load(name: str) -> Doc | None:
    if not NAME.fullmatch(name):
        return None
    path = docs_dir() / f"{name}.md"
    if not path.is_file():
        return None
    return _load(path, path.stat().st_mtime_ns)


def all_docs() -> list[Doc]:
    """Every page, in the order of ORDER (a page not named there comes after, by name)."""
    names = sorted((p.stem for p in docs_dir().glob("*.md")), key=_position)
    return [d for d in map(load, names) if d is not None]


ORDER = ("using-the-api", "graphql", "data", "search", "disclosure", "pages", "operating")


def _position(name: str) -> tuple[int, str]:
    return (ORDER.index(name) if name in ORDER else len(ORDER), name)


async def doc_page(request: Request) -> Response:
    doc = load(request.path_params["name"])
    if doc is None:
        return error_page(404, "No such page", "The documentation has no page of that name.")
    return page("doc.html", notice=None, doc=doc, docs=all_docs())
