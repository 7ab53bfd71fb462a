"""`open287g load …` subcommands."""

from __future__ import annotations

import argparse


def add_load_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    commands.add_parser("load", help="load source files into the database")
