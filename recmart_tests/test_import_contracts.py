"""The import contracts of pyproject.toml ([tool.importlinter]): the layer rules of
docs/design.md ("Rules of the house"), checked over the whole import graph by import-linter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from recmart.realtime.package import ENTRY_MODULES, FORBIDDEN

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_hold():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    assert lint_imports.exists(), f"{lint_imports} is missing: install the test extra (scripts/setup)"
    # --no-cache: nothing written into the tree; the whole graph takes about a second.
    done = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, f"lint-imports exited {done.returncode}:\n{done.stdout}\n{done.stderr}"


def test_the_lambda_contract_is_the_packagers():
    """The Lambda contract names what recmart/realtime/package.py packs and forbids."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    [lambda_contract] = [c for c in contracts if "recmart/realtime/package.py" in c["name"]]
    assert set(lambda_contract["source_modules"]) == set(ENTRY_MODULES)
    assert set(lambda_contract["forbidden_modules"]) == set(FORBIDDEN)
