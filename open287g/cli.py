"""The `open287g` command: database, loaders and the server (SPEC "Command line")."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from open287g import __version__


def _db_up(args: argparse.Namespace) -> int:
    from open287g.config import get_settings
    from open287g.db.embedded import start_embedded

    settings = get_settings()
    if settings.database_url:
        print("DATABASE_URL is set; no embedded database started.")
        return 0
    print(start_embedded(settings.data_dir))
    return 0


def _db_down(args: argparse.Namespace) -> int:
    from open287g.config import get_settings
    from open287g.db.embedded import stop_embedded

    settings = get_settings()
    stopped = stop_embedded(settings.data_dir)
    print("embedded database stopped" if stopped else "no embedded database running")
    return 0


def _db_migrate(args: argparse.Namespace) -> int:
    import asyncio

    from open287g.db.session import primary_url
    from open287g.loaders.derived import migrate_database

    refreshed = asyncio.run(migrate_database(primary_url(), args.revision))
    print(f"database migrated to {args.revision}")
    if refreshed:
        print(f"derived data refreshed: {', '.join(refreshed)}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    """uvicorn with every connection bounded (README "HTTP limits"): the request head by
    size and time (our httptools protocol; h11's own bound if h11 is ever used), idle
    keep-alive connections by `--timeout-keep-alive`, and forwarded client addresses
    trusted only from `--forwarded-allow-ips` (rate limits key on the client address)."""
    import uvicorn

    from open287g.config import get_settings, local_url
    from open287g.db.session import primary_url
    from open287g.web.connections import descriptor_limit
    from open287g.web.observability import log_config
    from open287g.web.protocol import BoundedHttpToolsProtocol

    if args.log_format is not None:  # the worker processes read it from the environment
        os.environ["OPEN287G_LOG_FORMAT"] = args.log_format
        get_settings.cache_clear()
    base = f"http://{args.host if ':' not in args.host else f'[{args.host}]'}:{args.port}"
    if not os.environ.get("OPEN287G_PUBLIC_URL"):
        # Links follow the port this server listens on (`make run PORT=18080`), not the
        # setting's default; the worker processes read it from the environment.
        os.environ["OPEN287G_PUBLIC_URL"] = local_url(args.host, args.port)
        get_settings.cache_clear()
    settings = get_settings()
    descriptor_limit()  # raised to the hard limit for this process and its workers
    primary_url()  # start the embedded server once, before workers race to do it
    print(
        f"open287g is serving on {base}\n"
        f"  {base}/          the map and numbers (pages for people)\n"
        f"  {base}/docs      the guide: quick start, downloads, limits, sources\n"
        f"  {base}/graphql   GraphQL (GraphiQL in a browser)",
        flush=True,
    )
    uvicorn.run(
        "open287g.app:serve_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        log_config=log_config(settings.log_format, args.log_level),
        access_log=False,
        http=BoundedHttpToolsProtocol,
        h11_max_incomplete_event_size=settings.max_header_bytes,
        timeout_keep_alive=args.timeout_keep_alive,
        proxy_headers=args.forwarded_allow_ips is not None,  # default: the socket peer
        forwarded_allow_ips=args.forwarded_allow_ips,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="open287g", description="Open data on the US 287(g) program: load and serve."
    )
    parser.add_argument("--version", action="version", version=f"open287g {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = commands.add_parser("db", help="manage the database").add_subparsers(
        dest="db_command", required=True, metavar="ACTION"
    )
    db.add_parser("up", help="start the embedded database (no-op with DATABASE_URL)").set_defaults(
        handler=_db_up
    )
    db.add_parser("down", help="stop the embedded database").set_defaults(handler=_db_down)
    migrate = db.add_parser("migrate", help="upgrade the schema (Alembic) to head")
    migrate.add_argument("revision", nargs="?", default="head")
    migrate.set_defaults(handler=_db_migrate)

    from open287g.loaders.cli import add_load_commands

    add_load_commands(commands)

    from open287g.sync.cli import add_sync_command

    add_sync_command(commands)

    serve = commands.add_parser("serve", help="serve the GraphQL and REST APIs")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--log-level", default="info")
    serve.add_argument(
        "--timeout-keep-alive",
        type=int,
        default=5,
        help="seconds an idle keep-alive connection stays open (default 5)",
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        default=None,
        help="proxy addresses whose X-Forwarded-For names the client (default: none, "
        "the client is the socket peer); rate limits key on the client address",
    )
    serve.add_argument(
        "--log-format",
        choices=["json", "plain"],
        default=None,
        help="one JSON object per log line (default, OPEN287G_LOG_FORMAT) or plain text;"
        " each request is logged at INFO (route template, status, duration, cache, version)",
    )
    serve.set_defaults(handler=_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    from pydantic import ValidationError
    from sqlalchemy.exc import DBAPIError

    from open287g.db.migrate import SchemaNotCurrent

    try:
        result: int = args.handler(args)
    except KeyboardInterrupt:
        print("interrupted; nothing was committed by the step in progress", file=sys.stderr)
        return 130
    except SchemaNotCurrent as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (DBAPIError, OSError) as exc:
        print(f"error: database: {getattr(exc, 'orig', None) or exc}", file=sys.stderr)
        return 1
    except ValidationError as exc:  # settings: a malformed DATABASE_URL and the like
        print(f"error: invalid configuration: {exc}", file=sys.stderr)
        return 2
    return result
