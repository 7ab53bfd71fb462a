"""schemathesis 4 with every check (`--checks all`) against the real server on the real
snapshots, driven only by /openapi.json: whatever the document promises (status codes,
content types, headers, schemas, what must be refused, Allow on 405s) the server does.

Bounded and reproducible: a fixed seed and example count; schemathesis's example database
and reports go to a temporary directory, so a run leaves the git tree clean.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.support.environment import PROJECT_ROOT
from tests.support.live import LiveServer

MAX_EXAMPLES = 30
SEED = 287


def test_schemathesis_all_checks_pass(
    live_server: LiveServer, tmp_path: Path, artifacts_dir: Path
) -> None:
    report = tmp_path / "report"
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        f"{live_server.base_url}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--generation-deterministic",  # also: no example database
        "--workers",
        "2",
        "--request-timeout",
        "30",
        "--report",
        "junit",
        "--report-dir",
        str(report),
        "--no-color",
    ]
    project = PROJECT_ROOT
    env = {
        **os.environ,
        "HYPOTHESIS_STORAGE_DIRECTORY": str(tmp_path / "hypothesis"),
        "SCHEMATHESIS_HOOKS": "tests.support.schemathesis_hooks",  # real states; no made-up cursors
        "PYTHONPATH": str(project),
    }
    result = subprocess.run(  # noqa: S603
        command,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=tmp_path,  # anything schemathesis writes lands here, not in the project
        env=env,
    )
    (artifacts_dir / "schemathesis.txt").write_text(result.stdout + result.stderr)
    tail = result.stdout[-6000:]
    assert result.returncode == 0, tail
    cases = re.search(r"Test cases:\s*\n?\s*(\d+) generated, (\d+) passed", result.stdout)
    assert cases is not None, tail
    assert int(cases[1]) > 100, tail  # the run really exercised the API
    assert cases[2] == cases[1], tail  # every case passed every check
    assert "Failures:" not in result.stdout, tail
    assert any(report.glob("junit*.xml"))
    assert not (project / "schemathesis-report").exists()
    tracked = subprocess.run(
        ["git", "ls-files", "--", "*schemathesis*/*"],  # noqa: S607
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert tracked == "", f"tool files tracked by git: {tracked}"
