"""Write the schema's SDL to open287g/graphql/schema.graphql (a test fails when it drifts)."""

from __future__ import annotations

from pathlib import Path

from open287g.graphql.schema import schema

SDL_FILE = Path(__file__).with_name("schema.graphql")


def main() -> None:
    SDL_FILE.write_text(str(schema) + "\n")
    print(f"wrote {SDL_FILE}")


if __name__ == "__main__":
    main()
