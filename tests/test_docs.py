"""Documentation cannot fall behind: every setting, command and endpoint is in the README."""

from __future__ import annotations

import argparse

import pytest
from starlette.routing import Route

from open287g.api.app import create_app
from open287g.cli import build_parser
from open287g.config import Settings
from tests.conftest import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text()


def _env_name(name: str) -> str:
    alias = Settings.model_fields[name].validation_alias
    return alias if isinstance(alias, str) else name.upper()


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_documented(field: str) -> None:
    assert f"`{_env_name(field)}`" in README, f"document {_env_name(field)} in README.md"


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
    assert command in README, f"document `{command}` in README.md"


@pytest.mark.parametrize("path", [r.path for r in create_app().routes if isinstance(r, Route)])
def test_every_endpoint_is_documented(path: str) -> None:
    assert f"`{path}`" in README, f"document {path} in README.md"
