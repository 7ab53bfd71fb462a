"""`open287g load …` (one subcommand per source, in the order of `loaders/registry.py`)
and `open287g datasets …`."""

from __future__ import annotations

import argparse

from open287g.loaders.datasets_cli import add_dataset_commands
from open287g.loaders.registry import SOURCES


def add_load_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`load …`, and `datasets …` (list what is loaded, remove it again)."""
    add_dataset_commands(commands)
    load = commands.add_parser("load", help="load source files into the database")
    kinds = load.add_subparsers(dest="dataset", required=True, metavar="DATASET")
    for source in SOURCES:
        source.add_command(kinds)
