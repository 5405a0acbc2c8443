"""Build the Lambda deployment artefact: the handler and its import closure, nothing else.

    python -m recmart.realtime.package dist/recmart-realtime.zip

The closure is found by importing the handler's entry modules in a fresh interpreter in
which the heavy packages (pyspark, dagster, pyarrow, pandas, duckdb, ...) cannot be
imported at all, and collecting every `recmart` module that got loaded. boto3 is not
packed: the Lambda Python runtime provides it. The zip is deterministic (sorted entries,
fixed timestamps), so Terraform's source hash changes only when the code does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

# What the Lambda may import: the handler and the store / dead-letter backends it picks at run time.
ENTRY_MODULES = (
    "recmart.realtime.handler",
    "recmart.realtime.store.dynamodb",
    "recmart.realtime.store.sqlite",
    "recmart.realtime.dead_letters",
)
# Never in the Lambda: these are the batch side's, or the laptop's.
FORBIDDEN = ("pyspark", "dagster", "pyarrow", "pandas", "duckdb", "numpy", "sqlalchemy", "click", "tqdm", "moto")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

# Run in a fresh interpreter: block FORBIDDEN, import the entry modules, report what loaded.
_PROBE = r"""
import importlib, json, sys

FORBIDDEN = set(json.loads(sys.argv[1]))

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in FORBIDDEN:
            raise ImportError(f"{name} must not be imported by the Lambda handler")
        return None

sys.meta_path.insert(0, Blocker())
for module in json.loads(sys.argv[2]):
    importlib.import_module(module)
files = sorted({m.__file__ for name, m in list(sys.modules.items())
                if (name == "recmart" or name.startswith("recmart.")) and getattr(m, "__file__", None)})
third_party = sorted({name.split(".")[0] for name in sys.modules if not name.startswith("_")}
                     - set(sys.stdlib_module_names) - {"recmart"})
print(json.dumps({"files": files, "third_party": third_party}))
"""


def import_closure(entry_modules: tuple[str, ...] = ENTRY_MODULES, forbidden: tuple[str, ...] = FORBIDDEN) -> dict:
    """{files: the recmart source files the entry modules load, third_party: other top-level packages}."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(list(forbidden)), json.dumps(list(entry_modules))],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the handler's import closure needs a forbidden package:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def package_root() -> Path:
    """The folder that holds the `recmart` package."""
    import recmart

    return Path(recmart.__file__).resolve().parent.parent


def build_zip(out: str | Path) -> dict:
    """Write the deployment zip; returns {path, files, bytes, third_party}."""
    closure = import_closure()
    root = package_root()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    names = sorted(Path(f).resolve().relative_to(root).as_posix() for f in closure["files"])
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, (root / name).read_bytes())
    return {"path": str(out), "files": names, "bytes": out.stat().st_size, "third_party": closure["third_party"]}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m recmart.realtime.package OUT.zip", file=sys.stderr)
        return 2
    built = build_zip(args[0])
    print(f"{built['path']}: {len(built['files'])} files, {built['bytes']:,} bytes; "
          f"needs from the runtime: {', '.join(built['third_party']) or 'nothing'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
