"""PyPI's `validators` installed beside kpisheet: both import, and kpisheet still runs.

Before the ``kpisheet`` namespace our core was the top-level package
``validators``, and ``pip install validators`` overwrote it. The dev extras
install PyPI's package on purpose, so this runs wherever the tests run.

The checks run in fresh interpreters of this environment whose working
folder is not the repository: the repository root on ``sys.path`` (as
pytest, or ``python`` started in the repository, puts it) makes the folder
``validators/`` importable as a top-level package and would hide PyPI's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import kpisheet
from kpisheet.xladdin.demo.cycle import MASTER_FILE

PROBE = """
import importlib.metadata, json, pathlib
import validators
import kpisheet.validators, kpisheet.validators.findings
pypi = importlib.metadata.distribution("validators")
print(json.dumps({
    "validators": str(pathlib.Path(validators.__file__).resolve()),
    "pypi_init": str(pathlib.Path(pypi.locate_file("validators/__init__.py")).resolve()),
    "email_ok": validators.email("hr@example.com") is True,
    "email_bad": bool(validators.email("not an address")),
    "ours": str(pathlib.Path(kpisheet.validators.__file__).resolve()),
    "ours_has_email": hasattr(kpisheet.validators, "email"),
    "catalogue": len(kpisheet.validators.findings.CATALOGUE),
}))
"""


def run_here(args: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, encoding="utf-8",
                          timeout=timeout)


def test_pypi_validators_and_ours_import_side_by_side(tmp_path):
    result = run_here([sys.executable, "-c", PROBE], tmp_path)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    # PyPI's package is the one its distribution installed, and it works
    assert found["validators"] == found["pypi_init"]
    assert found["email_ok"] and not found["email_bad"]
    # ours is another package, with our modules in it
    assert found["ours"] != found["validators"] and not found["ours_has_email"]
    assert found["catalogue"] > 0


def test_python_m_kpisheet_version(tmp_path):
    result = run_here([sys.executable, "-m", "kpisheet", "--version"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"kpisheet {kpisheet.__version__}"


def test_kpisheet_demo_runs_with_pypi_validators_installed(tmp_path):
    script = Path(sys.executable).with_name("kpisheet")
    assert script.is_file(), "the kpisheet console script is not installed in this environment"
    out = tmp_path / "demo"
    result = run_here([str(script), "demo", str(out)], tmp_path, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "演示完成 Demo finished" in result.stdout
    assert (out / MASTER_FILE).is_file()
