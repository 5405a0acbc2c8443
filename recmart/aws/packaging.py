"""The artefacts a remote Spark step runs: the recmart package zip and the one driver script.

* `recmart.zip`: the `recmart` package plus `dagster_pipes` (pure Python, no dependencies),
  so a Spark driver needs nothing installed but PySpark and boto3 (Glue and EMR have both) to
  talk Dagster Pipes with the exact protocol version of the orchestrator. spark-submit ships
  it with `--py-files`, Glue with `--extra-py-files`, EMR Serverless with
  `spark.submit.pyFiles`.
* `jobs/spark_job.py`: a copy of the one Spark entry point, `recmart/steps/spark_job.py`, run
  as the driver's main script by every Spark step (Glue runs it from each step's job
  ScriptLocation, EMR from the entry point); the spec it reads from Pipes names the step.

The zip is built byte-for-byte reproducibly (sorted entries, fixed timestamps and modes), so
its SHA-256 identifies the code version: uploads carry it as object metadata (`sha256`), and a
runner refuses to start a remote step whose uploaded artefacts are another version.

    python -m recmart.aws.packaging build OUT_DIR
    python -m recmart.aws.packaging upload s3://bucket/artifacts [--endpoint-url URL]
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import recmart

PACKAGE_ZIP = "recmart.zip"
JOBS_DIR = "jobs"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_SKIP_DIRS = {"__pycache__"}
_SKIP_SUFFIXES = (".pyc", ".pyo")


@dataclass(frozen=True)
class Artifacts:
    root: Path
    package_zip: Path
    script: Path  # the driver script every Spark step runs
    digests: dict[str, str]  # name relative to root -> sha256

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _package_dirs() -> list[tuple[Path, str]]:
    """(folder, name in the zip) of every package that goes into the zip."""
    import dagster_pipes

    return [(Path(recmart.__file__).parent, "recmart"), (Path(dagster_pipes.__file__).parent, "dagster_pipes")]


def _package_files() -> list[tuple[Path, str]]:
    files = []
    for folder, name in _package_dirs():
        for path in folder.rglob("*"):
            rel = path.relative_to(folder)
            if path.is_file() and not _SKIP_DIRS & set(rel.parts) and not path.name.endswith(_SKIP_SUFFIXES):
                files.append((path, f"{name}/{rel.as_posix()}"))
    return sorted(files, key=lambda f: f[1])


def entry_script() -> Path:
    """The one Spark entry point's source (`recmart/steps/spark_job.py`)."""
    return Path(recmart.__file__).parent / "steps" / "spark_job.py"


def source_digest() -> str:
    """A digest of everything that goes into the artefacts (cheap: no zip is built)."""
    digest = hashlib.sha256()
    for path, name in _package_files():
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def build_package_zip(dest: Path) -> Path:
    """Write the reproducible package zip to `dest`."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w") as zf:
        for path, name in _package_files():
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes(), compresslevel=6)
    return dest


def build_artifacts(out_dir: Path | str, entry: Path | None = None) -> Artifacts:
    """Build the package zip and copy the driver script (`entry`, by default the one Spark
    entry point) into `out_dir`."""
    root = Path(out_dir)
    package_zip = build_package_zip(root / PACKAGE_ZIP)
    source = entry or entry_script()
    script = root / JOBS_DIR / source.name
    script.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, script)
    digests = {p.relative_to(root).as_posix(): sha256_of(p) for p in [package_zip, script]}
    return Artifacts(root=root, package_zip=package_zip, script=script, digests=digests)


_BUILT: dict[str, Artifacts] = {}


def current_artifacts() -> Artifacts:
    """The artefacts of the code as it is now, built once per process and code version."""
    key = source_digest()
    if key not in _BUILT or not _BUILT[key].package_zip.exists():
        folder = tempfile.mkdtemp(prefix="recmart-artifacts-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _BUILT[key] = build_artifacts(folder)
    return _BUILT[key]


# ---- S3 ----------------------------------------------------------------------------------
class ArtifactMismatch(RuntimeError):
    """An uploaded artefact is missing or is not this code version."""


def artifact_uri(artifacts_uri: str, name: str) -> str:
    return f"{artifacts_uri.rstrip('/')}/{name}"


def sync_artifact(s3, path: Path, uri: str, digest: str, *, upload: bool) -> bool:
    """Make sure `uri` holds `path` (by SHA-256); uploads when allowed. True when it uploaded."""
    from botocore.exceptions import ClientError

    from recmart.aws.lake import split_s3_uri

    bucket, key = split_s3_uri(uri)
    try:
        remote = s3.head_object(Bucket=bucket, Key=key).get("Metadata", {}).get("sha256")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
            raise
        remote = None
    if remote == digest:
        return False
    if not upload:
        what = "is missing" if remote is None else f"is another code version (sha256 {remote}, this one {digest})"
        raise ArtifactMismatch(
            f"{uri} {what}: upload this version's artefacts with "
            f"`python -m recmart.aws.packaging upload <artifacts uri>` (the release does), "
            "or set RECMART_SPARK_UPLOAD_ARTIFACTS=true where the role may write there"
        )
    s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), Metadata={"sha256": digest})
    return True


def upload_artifacts(artifacts: Artifacts, artifacts_uri: str, s3) -> dict[str, str]:
    """Upload the zip and the driver script under `artifacts_uri`; {name: uri}."""
    uploaded = {}
    for name, digest in sorted(artifacts.digests.items()):
        uri = artifact_uri(artifacts_uri, name)
        sync_artifact(s3, artifacts.root / name, uri, digest, upload=True)
        uploaded[name] = uri
    return uploaded


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m recmart.aws.packaging", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build the artefacts into a folder")
    build.add_argument("out_dir")
    upload = sub.add_parser("upload", help="build and upload the artefacts to s3://bucket/prefix")
    upload.add_argument("artifacts_uri")
    upload.add_argument("--endpoint-url", default=None)
    args = parser.parse_args(argv)
    if args.command == "build":
        artifacts = build_artifacts(args.out_dir)
        for name, digest in sorted(artifacts.digests.items()):
            print(f"{digest}  {artifacts.root / name}")
    else:
        import boto3

        s3 = boto3.client("s3", endpoint_url=args.endpoint_url)
        artifacts = current_artifacts()
        for name, uri in upload_artifacts(artifacts, args.artifacts_uri, s3).items():
            print(f"{artifacts.digests[name]}  {uri}")


if __name__ == "__main__":
    main()
