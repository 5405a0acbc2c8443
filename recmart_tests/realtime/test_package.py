"""The Lambda artefact: the handler runs without the heavy packages, and the zip holds only its closure
and the wheels of what it bundles (msgspec), and runs with nothing else but what the runtime has."""

from __future__ import annotations

import importlib.metadata
import json
import platform
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from recmart.realtime import package
from recmart.realtime.package import BUNDLED, FORBIDDEN, build_zip

from .factories import click, kinesis_batch

# What the Lambda Python runtime has besides the standard library: boto3 and what it needs.
RUNTIME = {"boto3", "botocore", "certifi", "dateutil", "jmespath", "s3transfer", "six", "urllib3",
           "charset_normalizer", "idna", "awscrt"}
LOCAL_ARCHITECTURE = {"x86_64": "x86_64", "aarch64": "arm64"}.get(platform.machine())

# Runs the handler on one batch in an interpreter where FORBIDDEN packages cannot be imported.
RUN_HANDLER = r"""
import json, sys
forbidden = set(json.loads(sys.argv[1]))
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in forbidden:
            raise ImportError(f"blocked: {name}")
sys.meta_path.insert(0, Blocker())
# Only the zip's copy of recmart may be found when one is given, and of other packages only
# what the zip holds and the Lambda runtime has (argv[4]).
if len(sys.argv) > 3:
    import os
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__name__.lower()
                        and "editable" not in getattr(f, "__name__", "").lower()]
    sys.path.insert(0, sys.argv[3])
    allowed = set(json.loads(sys.argv[4])) | set(sys.stdlib_module_names) | {
        name.split(".")[0] for name in os.listdir(sys.argv[3])}
    class OnlyTheRuntime:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] not in allowed:
                raise ImportError(f"not in the Lambda: {name}")
    sys.meta_path.insert(0, OnlyTheRuntime())
import recmart.realtime.handler as h
event = json.loads(sys.argv[2])
print(json.dumps({"response": h.handle(event, None), "recmart": __import__("recmart").__file__,
                  "msgspec": __import__("msgspec").__file__,
                  "loaded": sorted(m.split(".")[0] for m in sys.modules)}))
"""


def run_handler(tmp_path, extracted=None) -> dict:
    env = {"PATH": "/usr/bin:/bin", "RECMART_RECS_STORE": f"sqlite:///{tmp_path}/recs.sqlite",
           "RECMART_RT_DEAD_LETTERS": f"jsonl:///{tmp_path}/dead.jsonl"}
    event, _ = kinesis_batch([click("e1", "P1"), b"junk"])
    args = [sys.executable, "-c", RUN_HANDLER, json.dumps(FORBIDDEN), json.dumps(event)]
    done = subprocess.run(args + ([str(extracted), json.dumps(sorted(RUNTIME))] if extracted else []),
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_handler_runs_with_the_heavy_packages_unimportable(tmp_path):
    result = run_handler(tmp_path)
    assert result["response"] == {"batchItemFailures": []}
    assert not set(FORBIDDEN) & set(result["loaded"])
    assert json.loads((tmp_path / "dead.jsonl").read_text())["reason"] == "not_json"


def _installed_fits(architecture) -> bool:
    return architecture is not None and package._from_installed(importlib.metadata.distribution("msgspec"),
                                                                architecture) is not None


needs_a_lambda_platform = pytest.mark.skipif(
    not _installed_fits(LOCAL_ARCHITECTURE),
    reason="the zip is built from the installed msgspec (no network) and run here only on the Lambda's "
           "platform: Linux x86_64 or aarch64, CPython 3.11, a manylinux wheel")


@needs_a_lambda_platform
def test_the_zip_holds_the_closure_and_msgspec_only_and_runs_on_its_own(tmp_path):
    built = build_zip(tmp_path / "dist" / "handler.zip", LOCAL_ARCHITECTURE)
    names = zipfile.ZipFile(built["path"]).namelist()
    assert "recmart/realtime/handler.py" in names and "recmart/realtime/store/dynamodb.py" in names
    recmart_names = [n for n in names if n.startswith("recmart/")]
    assert all(n.endswith(".py") for n in recmart_names)
    for module in ("recmart/realtime/lake_reader.py", "recmart/realtime/stream.py", "recmart/realtime/cli.py",
                   "recmart/realtime/firehose.py", "recmart/realtime/package.py"):
        assert module not in names
    assert not [n for n in names if n.split("/")[0] in FORBIDDEN]
    # Besides recmart: msgspec's wheel, all of it but what an installer adds (RECORD, INSTALLER, ...).
    version = importlib.metadata.version("msgspec")
    others = sorted(n for n in names if not n.startswith("recmart/"))
    assert {n.split("/")[0] for n in others} == {"msgspec", f"msgspec-{version}.dist-info"}
    assert any(re.fullmatch(r"msgspec/_core\.cpython-311-.*-linux-gnu\.so", n) for n in others)
    assert not [n for n in others if n.endswith(("/RECORD", "/INSTALLER", "/REQUESTED")) or "__pycache__" in n]
    assert built["bundled"] == ["msgspec"] and list(built["sources"]) == list(BUNDLED)
    with zipfile.ZipFile(built["path"]) as zf:
        assert sum(zf.getinfo(n).compress_size for n in recmart_names) < 100_000
    assert built["bytes"] < 1_000_000
    assert set(built["third_party"]) <= RUNTIME
    # Deterministic: the same code gives the same bytes (Terraform hashes the artefact).
    again = build_zip(tmp_path / "again.zip", LOCAL_ARCHITECTURE)
    assert (tmp_path / "dist" / "handler.zip").read_bytes() == (tmp_path / "again.zip").read_bytes()
    assert again["files"] == built["files"]

    extracted = tmp_path / "lambda"
    zipfile.ZipFile(built["path"]).extractall(extracted)
    result = run_handler(tmp_path, extracted)
    assert result["recmart"].startswith(str(extracted)) and result["msgspec"].startswith(str(extracted))
    assert result["response"] == {"batchItemFailures": []}
    assert "typing_extensions" not in result["loaded"]  # msgspec runs without it (the runtime lacks it)


@needs_a_lambda_platform
def test_a_wheel_in_the_wheels_folder_gives_the_same_zip(tmp_path):
    """A folder of wheels (what `pip download` fills) is read as the installed files are: the same bytes."""
    dist = importlib.metadata.distribution("msgspec")
    files = package._from_installed(dist, LOCAL_ARCHITECTURE)
    tags = [line[4:].strip() for line in dist.read_text("WHEEL").splitlines() if line.startswith("Tag:")]
    def write_wheel(folder, changed=None):
        folder.mkdir()
        wheel = folder / f"msgspec-{dist.version}-{tags[0]}.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            for name, data in {**files, **(changed or {})}.items():
                zf.writestr(name, data)
            zf.writestr(f"msgspec-{dist.version}.dist-info/RECORD", dist.read_text("RECORD"))
        return wheel

    wheels = tmp_path / "wheels"
    wheel = write_wheel(wheels)
    from_wheel = build_zip(tmp_path / "from_wheel.zip", LOCAL_ARCHITECTURE, wheels=wheels)
    installed = build_zip(tmp_path / "installed.zip", LOCAL_ARCHITECTURE)
    assert from_wheel["sources"]["msgspec"] == str(wheel) and installed["sources"]["msgspec"].startswith("the installed")
    assert (tmp_path / "from_wheel.zip").read_bytes() == (tmp_path / "installed.zip").read_bytes()
    # A wheel whose files do not match its RECORD is refused, not shipped.
    write_wheel(tmp_path / "tampered", {"msgspec/json.py": b"tampered = True\n"})
    with pytest.raises(RuntimeError, match="does not match the hash"):
        build_zip(tmp_path / "tampered.zip", LOCAL_ARCHITECTURE, wheels=tmp_path / "tampered")


@pytest.mark.parametrize(("tags", "architecture", "fits"), [
    (["cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-manylinux2014_x86_64"], "x86_64", True),
    (["cp311-cp311-manylinux2014_aarch64"], "arm64", True),
    (["cp311-cp311-manylinux2014_aarch64"], "x86_64", False),
    (["cp311-cp311-manylinux_2_28_x86_64"], "x86_64", False),  # Amazon Linux 2 has glibc 2.26
    (["cp311-cp311-manylinux_2_26_x86_64"], "x86_64", True),
    (["cp311-cp311-musllinux_1_2_x86_64", "cp311-cp311-macosx_11_0_arm64"], "arm64", False),
    (["cp312-cp312-manylinux2014_x86_64"], "x86_64", False),
    (["cp38-abi3-manylinux1_x86_64"], "x86_64", False),
    (["cp311-abi3-manylinux2010_x86_64"], "x86_64", True),
    (["py3-none-any"], "arm64", True),
])
def test_only_wheels_for_the_lambdas_python_and_platform_are_bundled(tags, architecture, fits):
    assert package.tags_fit(tags, architecture) is fits


def test_the_lambda_python_is_terraforms():
    tf = (Path(__file__).resolve().parents[2] / "deploy" / "terraform" / "realtime.tf").read_text()
    assert re.findall(r'runtime\s*=\s*"(python[\d.]+)"', tf) == [f"python{package.LAMBDA_PYTHON}"]
    variables = (Path(__file__).resolve().parents[2] / "deploy" / "terraform" / "variables.tf").read_text()
    block = variables[variables.index('variable "lambda_architecture"'):]
    assert re.search(r'default\s*=\s*"(\w+)"', block).group(1) in package.ARCHITECTURES
