"""Errors a loader raises for bad input: the message is what the user reads."""

from __future__ import annotations


class LoadError(Exception):
    """A source cannot be loaded as a whole; nothing from it was written."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message
