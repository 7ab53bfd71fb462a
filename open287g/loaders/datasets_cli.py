"""`open287g datasets …`: list the loaded source files, and remove one, the demo data set
or every synthetic file together with everything derived from it (one transaction)."""

from __future__ import annotations

import argparse

from open287g.db.ingest.removal import NotRemovable, remove_source_files, select_files
from open287g.db.queries.ids import BadId, from_global_id, to_global_id
from open287g.db.queries.reference import datasets
from open287g.loaders.commands import command, migrated_engine
from open287g.loaders.errors import LoadError
from open287g.loaders.registry import REMOVALS


def _file_id(value: str) -> int:
    """A dataset id as the APIs show it (`/v1/datasets`), or its plain number."""
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    try:
        type_name, key = from_global_id(value)
    except BadId:
        type_name, key = "", ""
    if type_name != "Dataset":
        raise argparse.ArgumentTypeError(f"{value!r} is not a dataset id (see `datasets list`)")
    return int(key)


def add_dataset_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("datasets", help="list or remove loaded datasets")
    actions = parser.add_subparsers(dest="datasets_command", required=True, metavar="ACTION")
    actions.add_parser("list", help="every loaded source file with its id").set_defaults(
        handler=command(_list)
    )
    remove = actions.add_parser(
        "remove",
        help="remove datasets and everything derived from them",
        description="Remove source files and everything derived from them (snapshots, "
        "agreements and agencies only they listed, jurisdictions only they created, "
        "policies, officials, detainer cells, load runs), in one transaction; mirrors "
        "see tombstones in /v1/changes.",
    )
    remove.add_argument("ids", nargs="*", type=_file_id, metavar="DATASET_ID")
    remove.add_argument("--demo", action="store_true", help="every demo file")
    remove.add_argument("--synthetic", action="store_true", help="every synthetic file")
    remove.set_defaults(handler=command(_remove))


async def _list(args: argparse.Namespace) -> int:
    async with migrated_engine() as engine, engine.connect() as conn:
        found = await datasets(conn)
    for d in found:
        label = " DEMO" if d.is_demo else " SYNTHETIC" if d.is_synthetic else ""
        when = d.snapshot_date.isoformat() if d.snapshot_date else d.fetched_at.date().isoformat()
        print(f"{d.id:>5} {to_global_id('Dataset', d.id)}  {d.dataset:<9} {when}  {d.name}{label}")
    print(f"{len(found)} dataset(s)")
    return 0


async def _remove(args: argparse.Namespace) -> int:
    if not (args.ids or args.demo or args.synthetic):
        raise LoadError("datasets remove", "name dataset ids, --demo or --synthetic")
    async with migrated_engine() as engine, engine.begin() as conn:
        files = await select_files(conn, ids=args.ids, demo=args.demo, synthetic=args.synthetic)
        missing = sorted(set(args.ids) - set(files))
        if missing:
            raise LoadError("datasets remove", f"no dataset with id {missing[0]}; nothing removed")
        try:
            removed = await remove_source_files(conn, files, REMOVALS)
        except NotRemovable as exc:
            raise LoadError("datasets remove", f"{exc}; nothing removed") from exc
    print(f"datasets: {removed.summary()}")
    return 0
