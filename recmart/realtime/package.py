"""Build the Lambda deployment artefact: the handler, its import closure and msgspec, nothing else.

    python -m recmart.realtime.package build/lambda.zip [--architecture x86_64|arm64] [--wheels DIR]

The closure is found by importing the handler's entry modules in a fresh interpreter in
which the heavy packages (pyspark, dagster, pyarrow, pandas, duckdb, ...) cannot be
imported at all, and collecting every `recmart` module that got loaded. boto3 is not
packed: the Lambda Python runtime provides it.

BUNDLED packages (msgspec: compiled) are packed from the wheel of the installed version for
the Lambda's platform: CPython LAMBDA_PYTHON on `--architecture` (Terraform's
`lambda_architecture`), manylinux up to glibc 2.26 (the python3.11 runtime runs on Amazon
Linux 2). The wheel is taken from `--wheels DIR` if it is there; else from the installed
files themselves when they are that wheel's (its tags fit and every file matches the
RECORD's hash: a Linux x86_64 build machine with Python 3.11 needs no network); else `pip
download` fetches it (into DIR when given, so the next build finds it). The Lambda itself
needs no network: everything is in the zip.

The zip is deterministic (sorted entries, fixed timestamps, only the wheel's files and not
what the installer added), so Terraform's source hash changes only when the code or the
pinned wheel does.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import importlib.metadata
import io
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
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
# Not in the Lambda runtime, and imported only if present (msgspec's typing helpers fall back
# to `typing`): unimportable when the closure is probed, as in the Lambda.
ABSENT = ("typing_extensions",)
# Distributions the handler imports and the runtime lacks: packed into the zip from their wheel.
BUNDLED = ("msgspec",)
LAMBDA_PYTHON = "3.11"  # deploy/terraform/realtime.tf: runtime = "python3.11" (a test holds them equal)
_MAX_GLIBC = (2, 26)  # the python3.11 runtime's Amazon Linux 2
ARCHITECTURES = {"x86_64": "x86_64", "arm64": "aarch64"}  # Lambda architecture: the wheels' machine
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
# What an installer adds to a wheel's .dist-info (and the RECORD it rewrites): never packed.
_INSTALLER_FILES = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json", "uv_cache.json"}
_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}

# Run in a fresh interpreter: block FORBIDDEN, import the entry modules, report what loaded.
_PROBE = r"""
import importlib, json, sys

FORBIDDEN = set(json.loads(sys.argv[1])) | set(json.loads(sys.argv[3]))

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
        [sys.executable, "-c", _PROBE, json.dumps(list(forbidden)), json.dumps(list(entry_modules)),
         json.dumps(list(ABSENT))],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the handler's import closure needs a forbidden package:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def package_root() -> Path:
    """The folder that holds the `recmart` package."""
    import recmart

    return Path(recmart.__file__).resolve().parent.parent


# ---- bundled wheels ---------------------------------------------------------------------------

def _platform_fits(platform: str, machine: str) -> bool:
    """Whether a wheel platform tag loads on the Lambda (manylinux of glibc <= 2.26, or pure)."""
    if platform == "any":
        return True
    legacy = re.fullmatch(r"(manylinux1|manylinux2010|manylinux2014)_(\w+)", platform)
    if legacy:
        return legacy.group(2) == machine and _LEGACY_MANYLINUX[legacy.group(1)] <= _MAX_GLIBC
    perennial = re.fullmatch(r"manylinux_(\d+)_(\d+)_(\w+)", platform)
    return perennial is not None and perennial.group(3) == machine and (
        int(perennial.group(1)), int(perennial.group(2))) <= _MAX_GLIBC


def tags_fit(tags: Iterable[str], architecture: str) -> bool:
    """Whether any wheel tag (python-abi-platform, expanded) runs on the Lambda's CPython and architecture."""
    machine = ARCHITECTURES[architecture]
    cp = "cp" + LAMBDA_PYTHON.replace(".", "")
    for tag in tags:
        python, abi, platform = tag.split("-")
        if (python in (cp, "py3") and abi in (cp, "abi3", "none")) and _platform_fits(platform, machine):
            return True
    return False


def _expand(compressed: str) -> list[str]:
    """Wheel tags from a compressed tag set (`cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64`)."""
    pythons, abis, platforms = (part.split(".") for part in compressed.split("-"))
    return [f"{p}-{a}-{pl}" for p in pythons for a in abis for pl in platforms]


def _wheel_name(filename: str) -> tuple[str, str, list[str]] | None:
    """(normalised name, version, tags) of a wheel's file name; None if it is not one."""
    match = re.fullmatch(r"([^-]+)-([^-]+)(?:-\d[^-]*)?-([^-]+-[^-]+-[^-]+)\.whl", filename)
    if not match:
        return None
    return _normalise(match.group(1)), match.group(2), _expand(match.group(3))


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _kept(path: str) -> bool:
    """A wheel's file as packed: all but the .dist-info files an installer adds or rewrites."""
    parts = path.split("/")
    return not (len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] in _INSTALLER_FILES)


def _digest(mode: str, data: bytes) -> str:
    """A file's hash as a wheel's RECORD spells it (urlsafe base64, unpadded)."""
    return base64.urlsafe_b64encode(hashlib.new(mode, data).digest()).rstrip(b"=").decode()


def _from_wheel(wheel: Path) -> dict[str, bytes]:
    """The wheel's files, each checked against the hash its RECORD gives."""
    with zipfile.ZipFile(wheel) as zf:
        files = {n: zf.read(n) for n in zf.namelist() if not n.endswith("/") and _kept(n)}
        [record] = [n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/RECORD")]
        hashes = {row[0]: row[1] for row in csv.reader(io.StringIO(zf.read(record).decode("utf-8"))) if len(row) >= 2}
    for name, data in files.items():
        mode, _, value = hashes.get(name, "").partition("=")
        if not value or _digest(mode, data) != value:
            raise RuntimeError(f"{wheel}: {name} does not match the hash in the wheel's RECORD")
    return files


def _from_installed(dist: importlib.metadata.Distribution, architecture: str) -> dict[str, bytes] | None:
    """The installed files of `dist`, if they are a wheel's for the Lambda (tags and RECORD hashes)."""
    wheel_meta = dist.read_text("WHEEL") or ""
    tags = [t for line in wheel_meta.splitlines() if line.startswith("Tag:") for t in _expand(line[4:].strip())]
    if not tags_fit(tags, architecture):
        return None
    files = {}
    for entry in dist.files or ():
        if entry.hash is None or not _kept(entry.as_posix()):  # no hash: RECORD itself, compiled .pyc
            continue
        data = Path(entry.locate()).read_bytes()  # locate(): a Path, typed as os.PathLike
        if _digest(entry.hash.mode, data) != entry.hash.value:
            return None  # changed since it was installed: not the wheel's bytes
        files[entry.as_posix()] = data
    return files


def _find_wheel(folder: Path, name: str, version: str, architecture: str) -> Path | None:
    for wheel in sorted(folder.glob("*.whl")):
        parsed = _wheel_name(wheel.name)
        if parsed and parsed[:2] == (_normalise(name), version) and tags_fit(parsed[2], architecture):
            return wheel
    return None


def _download(name: str, version: str, architecture: str, folder: Path) -> Path:
    machine = ARCHITECTURES[architecture]
    cp = "cp" + LAMBDA_PYTHON.replace(".", "")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
         "--implementation", "cp", "--python-version", LAMBDA_PYTHON, "--abi", cp, "--abi", "abi3", "--abi", "none",
         "--platform", f"manylinux2014_{machine}", "--dest", str(folder), f"{name}=={version}"],
        capture_output=True, text=True, check=False,
    )
    wheel = _find_wheel(folder, name, version, architecture) if done.returncode == 0 else None
    if wheel is None:
        raise RuntimeError(f"no wheel of {name}=={version} for the Lambda (CPython {LAMBDA_PYTHON}, "
                           f"manylinux2014 {machine}):\n{done.stderr[-3000:]}")
    return wheel


def bundled_files(name: str, architecture: str = "x86_64", wheels: str | Path | None = None) -> tuple[dict[str, bytes], str]:
    """({path in the zip: bytes} of the installed version of `name` for the Lambda, where they came from)."""
    dist = importlib.metadata.distribution(name)
    version = dist.version
    if wheels is not None:
        wheel = _find_wheel(Path(wheels), name, version, architecture)
        if wheel is not None:
            return _from_wheel(wheel), str(wheel)
    installed = _from_installed(dist, architecture)
    if installed is not None:
        return installed, f"the installed {name} {version}"
    if wheels is not None:
        Path(wheels).mkdir(parents=True, exist_ok=True)
        wheel = _download(name, version, architecture, Path(wheels))
        return _from_wheel(wheel), str(wheel)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = _download(name, version, architecture, Path(tmp))
        return _from_wheel(wheel), f"pip download: {wheel.name}"


# ---- the zip ------------------------------------------------------------------------------------

def build_zip(out: str | Path, architecture: str = "x86_64", wheels: str | Path | None = None) -> dict:
    """Write the deployment zip; returns {path, files, bytes, third_party, bundled, sources}.

    `third_party`: the top-level packages the runtime must provide (boto3 and its own);
    `bundled`: those packed from wheels, with `sources` saying from which.
    """
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture {architecture!r}: expected one of {sorted(ARCHITECTURES)}")
    closure = import_closure()
    root = package_root()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    contents = {Path(f).resolve().relative_to(root).as_posix(): Path(f).read_bytes() for f in closure["files"]}
    sources, packed_tops = {}, set()
    for name in BUNDLED:
        files, sources[name] = bundled_files(name, architecture, wheels)
        contents.update(files)
        packed_tops |= {path.split("/")[0] for path in files if not path.split("/")[0].endswith(".dist-info")}
    names = sorted(contents)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.external_attr = (0o755 if name.endswith(".so") else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, contents[name])
    return {"path": str(out), "files": names, "bytes": out.stat().st_size,
            "third_party": sorted(set(closure["third_party"]) - packed_tops),
            "bundled": sorted(packed_tops), "sources": sources}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recmart.realtime.package",
                                     description="Build the real-time Lambda's deployment zip.")
    parser.add_argument("out", help="the zip to write, e.g. build/lambda.zip")
    parser.add_argument("--architecture", choices=sorted(ARCHITECTURES), default="x86_64",
                        help="the Lambda's instruction set: Terraform's lambda_architecture (default x86_64)")
    parser.add_argument("--wheels", help="a folder of wheels to take the bundled ones from (and to download them to)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    built = build_zip(args.out, args.architecture, args.wheels)
    print(f"{built['path']}: {len(built['files'])} files, {built['bytes']:,} bytes, for {args.architecture}; "
          f"bundled: {'; '.join(built['sources'].values())}; "
          f"needs from the runtime: {', '.join(built['third_party']) or 'nothing'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
