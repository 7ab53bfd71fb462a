"""`make mutate`: mutation testing of the core logic modules, on a seeded random sample.

mutmut (3.x, a dev dependency) writes every mutant of the modules `[tool.mutmut]
only_mutate` lists (pyproject.toml) into `mutants/`; this script draws `--sample` of each
module's mutants at random with `--seed`, has mutmut run them (each mutant runs only the
tests that call the function it changed, among the fast tests `[tool.mutmut]
pytest_add_cli_args_test_selection` lists, under a CPU-time limit), and prints killed /
survived per module. A mutant that times out counts as killed (mutmut's convention); one
no fast test reaches counts as survived. Exit status 1 when a module kills fewer than
`--fail-under` percent.

    python tools/mutate.py [--sample 80] [--seed 25] [--fail-under 90] [module.py …]

`mutmut show <name>` prints a surviving mutant's diff; `mutants/` is scratch (ignored).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"


def _modules() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return list(config["only_mutate"])


def _generate() -> None:
    """Every mutant of every module, written by mutmut into a fresh `mutants/`."""
    from mutmut.__main__ import create_mutants
    from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir

    shutil.rmtree(MUTANTS, ignore_errors=True)
    MUTANTS.mkdir()
    with contextlib.redirect_stdout(io.StringIO()):
        copy_src_dir()
        copy_also_copy_files()
        create_mutants(1)


def _results(module: str) -> dict[str, int | None]:
    meta = json.loads((MUTANTS / f"{module}.meta").read_text())
    found: dict[str, int | None] = meta["exit_code_by_key"]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="modules to mutate (default: only_mutate)")
    parser.add_argument("--sample", type=int, default=80, help="mutants per module (80)")
    parser.add_argument("--seed", type=int, default=25, help="random seed of the sample (25)")
    parser.add_argument("--fail-under", type=float, default=90.0, help="percent killed (90)")
    args = parser.parse_args(argv)
    from mutmut.stats import status_by_exit_code

    modules = args.modules or _modules()
    started = time.monotonic()
    _generate()
    sample: dict[str, list[str]] = {}
    for module in modules:
        names = sorted(_results(module))
        # Each module's own draw: the same sample whichever other modules run with it.
        rng = random.Random(f"{args.seed}:{module}")  # noqa: S311 (reproducible, not secret)
        sample[module] = sorted(rng.sample(names, min(args.sample, len(names))))
        print(f"{module}: {len(sample[module])} of {len(names)} mutants (seed {args.seed})")
    chosen = [name for names in sample.values() for name in names]
    log = MUTANTS / "mutmut.log"
    # The tests run from mutants/: the shared data stays where it is beside the project.
    env = {**os.environ, "OPEN287G_SHARED_DATA": str(ROOT.parent / "shared" / "data")}
    with log.open("w") as out:
        subprocess.run(  # noqa: S603 (our own venv's mutmut, our own arguments)
            [str(Path(sys.executable).with_name("mutmut")), "run", "--max-children", "1", *chosen],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    failed = False
    print()
    for module, names in sample.items():
        statuses = [status_by_exit_code[_results(module).get(name)] for name in names]
        killed = sum(s in ("killed", "timeout") for s in statuses)
        share = 100 * killed / len(names) if names else 100.0
        failed |= share < args.fail_under
        others = {s: statuses.count(s) for s in sorted(set(statuses)) if s not in ("killed",)}
        print(f"{module}: killed {killed}/{len(names)} ({share:.0f} %) {others or ''}")
        for name, status in zip(names, statuses, strict=True):
            if status not in ("killed", "timeout"):
                print(f"    {status}: {name}")
    print(f"\n{len(chosen)} mutants in {time.monotonic() - started:.0f} s; mutmut's log: {log}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
