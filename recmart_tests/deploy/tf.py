"""Reading deploy/terraform without terraform: parse every file and resolve simple references.

`Terraform.load()` parses each `.tf` file with python-hcl2 and each `.tf.json` with json,
and merges them into one model (resources, data sources, locals, variables, outputs).
`resolve` follows the references the tests need: `local.x`, `var.x` (its default),
`each.key`, `each.value` and `each.value.attr`, map/index look-ups `local.m["k"].attr` and
`toset(...)`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2

REPO = Path(__file__).resolve().parents[2]
TF_DIR = REPO / "deploy" / "terraform"

# Top-level keys of a Terraform configuration (JSON syntax included).
TOP_LEVEL_BLOCKS = {"terraform", "provider", "variable", "locals", "output", "module", "resource", "data",
                    "moved", "import", "removed", "check", "//"}

_OPTIONS = hcl2.SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
_WHOLE_EXPR = re.compile(r"^\$\{(.+)\}$", re.S)
_PATH_PART = re.compile(r'\.([A-Za-z_][A-Za-z0-9_-]*)|\["([^"]+)"\]|\[(\d+)\]')


def tf_files() -> list[Path]:
    return sorted(TF_DIR.glob("*.tf"))


def tf_json_files() -> list[Path]:
    return sorted(TF_DIR.glob("*.tf.json"))


def parse_hcl(path: Path) -> dict:
    with path.open(encoding="utf-8") as f:
        return hcl2.load(f, serialization_options=_OPTIONS)


def blocks(value: Any) -> list[dict]:
    """A nested block as a list of bodies (HCL gives lists, JSON syntax an object or a list)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def block(body: dict, name: str) -> dict:
    """The one nested block `name` of a body."""
    found = blocks(body.get(name))
    assert len(found) == 1, f"expected one {name!r} block, found {len(found)}"
    return found[0]


@dataclass
class Resource:
    type: str
    name: str
    body: dict
    file: str


@dataclass
class Terraform:
    resources: dict[tuple[str, str], Resource] = field(default_factory=dict)
    data: dict[tuple[str, str], Resource] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, dict] = field(default_factory=dict)
    outputs: dict[str, dict] = field(default_factory=dict)
    providers: list[dict] = field(default_factory=list)

    @classmethod
    def load(cls) -> Terraform:
        tf = cls()
        for path in tf_files():
            tf._add(parse_hcl(path), path.name, hcl=True)
        for path in tf_json_files():
            tf._add(json.loads(path.read_text(encoding="utf-8")), path.name, hcl=False)
        return tf

    def _add(self, doc: dict, file: str, hcl: bool) -> None:
        def entries(key: str) -> Iterator[dict]:
            value = doc.get(key)
            if value is None:
                return
            yield from (value if isinstance(value, list) else [value])

        for kind, target in (("resource", self.resources), ("data", self.data)):
            for entry in entries(kind):
                for rtype, named in entry.items():
                    for rname, body in named.items():
                        key = (rtype, rname)
                        assert key not in target, f"{kind} {rtype}.{rname} is declared twice"
                        target[key] = Resource(rtype, rname, body if isinstance(body, dict) else body[0], file)
        for entry in entries("locals"):
            for name, value in entry.items():
                assert name not in self.locals, f"local.{name} is declared twice"
                self.locals[name] = value
        for entry in entries("variable"):
            for name, body in entry.items():
                self.variables[name] = body
        for entry in entries("output"):
            for name, body in entry.items():
                self.outputs[name] = body
        for entry in entries("provider"):
            self.providers.append(entry)

    # ---- look-ups --------------------------------------------------------------------------
    def resources_of(self, rtype: str) -> list[Resource]:
        return [r for (t, _), r in self.resources.items() if t == rtype]

    def resource(self, rtype: str, name: str) -> Resource:
        return self.resources[(rtype, name)]

    def policy_document(self, name: str) -> dict:
        return self.data[("aws_iam_policy_document", name)].body

    # ---- evaluation of simple references ---------------------------------------------------
    def resolve(self, value: Any, each: tuple[Any, Any] | None = None, depth: int = 0) -> Any:
        """`value` with a whole-string reference replaced by what it refers to (recursively)."""
        assert depth < 20, f"reference loop at {value!r}"
        if isinstance(value, dict):
            return {k: self.resolve(v, each, depth + 1) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, each, depth + 1) for v in value]
        if not isinstance(value, str):
            return value
        match = _WHOLE_EXPR.match(value)
        if not match or "${" in match.group(1):
            return value
        expr = match.group(1).strip()
        if each is not None:  # an index by the instance's key or value: m[each.key]
            expr = re.sub(r"\[each\.(key|value)\]",
                          lambda m: '["%s"]' % (each[0] if m.group(1) == "key" else each[1]), expr)
        fn = re.fullmatch(r"toset\((.+)\)", expr, re.S)
        if fn:  # toset(list): the list (its order does not matter to the tests)
            inner = self.resolve("${" + fn.group(1) + "}", each, depth + 1)
            return list(dict.fromkeys(inner)) if isinstance(inner, list) else value
        head, _, rest = expr.partition(".")
        if head == "local":
            name, path = _split_name(rest)
            if name not in self.locals:
                return value
            return self._walk(self.resolve(self.locals[name], each, depth + 1), path, value, each, depth)
        if head == "var":
            name, path = _split_name(rest)
            if name not in self.variables or "default" not in self.variables[name]:
                return value
            return self._walk(self.resolve(self.variables[name]["default"], each, depth + 1), path, value, each, depth)
        if head == "each" and each is not None:
            name, path = _split_name(rest)
            base = {"key": each[0], "value": each[1]}.get(name)
            if base is None:
                return value
            return self._walk(self.resolve(base, each, depth + 1), path, value, each, depth)
        return value

    def render(self, value: Any, each: tuple[Any, Any] | None = None) -> Any:
        """Like `resolve`, and also fills the simple references inside a string template."""
        value = self.resolve(value, each)
        if not isinstance(value, str) or "${" not in value:
            return value

        def fill(m: re.Match) -> str:
            got = self.resolve("${" + m.group(1) + "}", each)
            if isinstance(got, str) and got != "${" + m.group(1) + "}":
                return self.render(got, each)
            return str(got) if isinstance(got, (int, float)) else m.group(0)

        return re.sub(r"\$\{([^{}]+)\}", fill, value)

    def _walk(self, base: Any, path: str, original: str, each, depth: int) -> Any:
        for m in _PATH_PART.finditer(path):
            key = m.group(1) or m.group(2)
            if key is None:
                base = base[int(m.group(3))]
                continue
            if not isinstance(base, dict) or key not in base:
                return original
            base = self.resolve(base[key], each, depth + 1)
        return base

    def instances(self, res: Resource) -> list[tuple[Any, Any]]:
        """(each.key, each.value) of every instance of a resource; [(None, None)] without for_each."""
        if "for_each" not in res.body:
            return [(None, None)]
        collection = self.resolve(res.body["for_each"])
        if isinstance(collection, dict):
            return list(collection.items())
        if isinstance(collection, list):
            return [(v, v) for v in collection]
        raise AssertionError(f"{res.type}.{res.name}: cannot evaluate for_each {res.body['for_each']!r}")

    def attribute_values(self, rtype: str, attribute: str) -> set[str]:
        """Every value an attribute takes over all instances of all resources of a type."""
        values = set()
        for res in self.resources_of(rtype):
            for each in self.instances(res):
                values.add(self.render(res.body.get(attribute), each=each))
        return values


def _split_name(rest: str) -> tuple[str, str]:
    m = re.match(r"([A-Za-z_][A-Za-z0-9_-]*)(.*)$", rest, re.S)
    assert m, rest
    return m.group(1), m.group(2)


def statements(doc: dict) -> list[dict]:
    """The statement blocks of an aws_iam_policy_document, dynamic ones included."""
    found = list(blocks(doc.get("statement")))
    for dyn in blocks(doc.get("dynamic")):
        for name, body in dyn.items():
            if name == "statement":
                found += blocks(body.get("content"))
    return found
