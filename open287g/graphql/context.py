"""What every resolver gets: the read engine, this request's DataLoaders, the settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.config import Settings
from open287g.db.queries.changes import DataVersion
from open287g.graphql.dataloaders import Loaders


@dataclass
class Context:
    engine: AsyncEngine
    settings: Settings
    loaders: Loaders = field(init=False)
    # Set by a compiled operation: the data version its one statement read.
    read_version: DataVersion | None = None
    # Set by the HTTP view when it still needs the version the resolvers must match: read
    # only if the operation runs on the resolvers (graphql/versioned.py).
    before_resolvers: Any = None

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.engine, self.settings)


Info = strawberry.Info[Context, None]
