"""Every data source is declared once (`loaders/registry.py`): its dataset, its `load`
command and how its files are removed."""

from __future__ import annotations

import argparse

from open287g.loaders.cli import add_load_commands
from open287g.loaders.registry import REMOVALS, SOURCES


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
