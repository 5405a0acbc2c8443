"""deploy/docker/Dockerfile: parsed into instructions (Docker cannot run here) and checked."""

from __future__ import annotations

import json
import re
import shlex

import pytest

from recmart_tests.deploy.tf import REPO

DOCKERFILE = REPO / "deploy" / "docker" / "Dockerfile"
DOCKERIGNORE = REPO / "deploy" / "docker" / "Dockerfile.dockerignore"
INSTRUCTIONS = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER",
                "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}


def parse_dockerfile(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per logical line: comments dropped, continuations joined."""
    instructions, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):  # a comment inside a continued instruction
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical = (pending + stripped).strip()
        pending = ""
        if not logical:
            continue
        word, _, rest = logical.partition(" ")
        instructions.append((word.upper(), rest.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


@pytest.fixture(scope="module")
def instructions() -> list[tuple[str, str]]:
    return parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))


def _all(instructions, kind: str) -> list[str]:
    return [args for word, args in instructions if word == kind]


def test_parses_into_known_instructions(instructions):
    assert instructions[0][0] == "FROM"
    unknown = {word for word, _ in instructions} - INSTRUCTIONS
    assert not unknown, f"unknown instructions {unknown}"
    assert all(args for _, args in instructions), "an instruction without arguments"


def test_base_image_is_python_311_slim(instructions):
    (base,) = _all(instructions, "FROM")
    assert re.fullmatch(r"python:3\.11-slim(-bookworm)?", base), base


def test_installs_java_17_for_pyspark(instructions):
    runs = " ".join(_all(instructions, "RUN"))
    assert re.search(r"apt-get install [^&]*openjdk-17-jre-headless", runs)
    assert "rm -rf /var/lib/apt/lists/*" in runs


def test_installs_the_package_from_the_copied_sources(instructions):
    order = [(w, a) for w, a in instructions if w in ("COPY", "RUN")]
    copied = [a for w, a in order if w == "COPY"]
    install_at = next(i for i, (w, a) in enumerate(order) if w == "RUN" and re.search(r"pip install (\S+ )*\.", a))
    before = " ".join(a for w, a in order[:install_at] if w == "COPY")
    assert "pyproject.toml" in before and "recmart" in before, "the package is installed before its sources are copied"
    for args in copied:
        *sources, _target = shlex.split(args)
        for source in sources:
            if source.startswith("--"):
                continue
            assert (REPO / source).exists(), f"COPY source {source} does not exist"


def test_ships_the_production_instance(instructions):
    env = " ".join(_all(instructions, "ENV"))
    assert "DAGSTER_HOME=" in env
    copied = " ".join(_all(instructions, "COPY"))
    assert "deploy/dagster/dagster.yaml" in copied and "deploy/dagster/workspace.yaml" in copied


def test_runs_the_code_server_as_a_non_root_user(instructions):
    users = _all(instructions, "USER")
    assert users and users[-1] not in ("root", "0")
    (port,) = _all(instructions, "EXPOSE")
    cmd = json.loads(_all(instructions, "CMD")[-1])  # exec form
    assert cmd[:3] == ["dagster", "code-server", "start"]
    module = cmd[cmd.index("--module-name") + 1] if "--module-name" in cmd else cmd[cmd.index("-m") + 1]
    assert module == "recmart.definitions"
    assert cmd[cmd.index("--port") + 1] == port
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0"
    assert any("grpc-health-check" in args for args in _all(instructions, "HEALTHCHECK"))


def test_build_context_is_limited_to_what_the_image_copies():
    lines = [line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == "*", "exclude everything, then re-include what the image copies"
    assert {"!pyproject.toml", "!recmart/", "!deploy/dagster/dagster.yaml"} <= set(lines)
    assert not any(line.startswith("!.venv") or line.startswith("!.recmart") for line in lines)


def test_parser_joins_continuations_and_drops_comments():
    parsed = parse_dockerfile("# c\nFROM x\nRUN a \\\n  # inner\n  && b\nCMD [\"y\"]\n")
    assert parsed == [("FROM", "x"), ("RUN", "a  && b"), ("CMD", '["y"]')]
