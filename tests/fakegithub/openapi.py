"""GitHub's REST description: find the operation of a request and check it."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator

REST_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "rest"
SPEC_FILES = ("api.github.com.bot-subset.json", "extra-operations.json")
METHODS = ("get", "put", "post", "patch", "delete")

# A JSON value as the description holds it.
Json = dict[str, Any]


@dataclass(frozen=True)
class Operation:
    """One method on one path template, e.g. POST /repos/{owner}/{repo}/issues."""

    method: str  # upper case
    template: str
    operation_id: str
    spec: Json = field(repr=False, compare=False)
    pattern: re.Pattern[str] = field(repr=False, compare=False)
    literal_segments: int = 0  # more literal segments = more specific template

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(path)
        return None if found is None else found.groupdict()


@dataclass(frozen=True)
class Spec:
    document: Json
    operations: tuple[Operation, ...]

    @property
    def components(self) -> Json:
        return self.document["components"]  # type: ignore[no-any-return]


def for_validation(node: Any) -> Any:
    """The description, adjusted for two quirks of GitHub's text.

    `discriminator` is dropped: the check-run one has no mapping and makes the
    validator look for schemas that do not exist; `oneOf` alone is exact.
    `nullable` beside `enum` or `oneOf`/`anyOf`/`allOf` is made to admit null: GitHub
    answers `"conclusion": null` and `"author": null` where its description says
    nullable, but the validator applies `nullable` to `type` only."""
    if isinstance(node, list):
        return [for_validation(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: for_validation(v) for k, v in node.items() if k != "discriminator"}
    composite = any(k in node for k in ("enum", "oneOf", "anyOf", "allOf"))
    if node.get("nullable") is True and composite:
        rest = {k: v for k, v in node.items() if k != "nullable"}
        return {"anyOf": [{"enum": [None]}, rest]}
    return node


def merged_documents() -> Json:
    """The bot subset plus the extra operations, components unioned."""
    documents = [json.loads((REST_DIR / name).read_text()) for name in SPEC_FILES]
    merged: Json = documents[0]
    for extra in documents[1:]:
        for path, operations in extra["paths"].items():
            merged["paths"].setdefault(path, {}).update(operations)
        for kind, entries in extra["components"].items():
            for name, value in entries.items():
                merged["components"].setdefault(kind, {}).setdefault(name, value)
    return merged


def compile_template(template: str) -> tuple[re.Pattern[str], int]:
    """A regex for a path template; `{path}` (file paths) may span segments."""
    parts = []
    literals = 0
    for segment in template.strip("/").split("/"):
        names = re.findall(r"\{(\w+)\}", segment)
        if not names:
            literals += 1
        regex = re.escape(segment)
        for name in names:
            value = ".+" if name == "path" else "[^/]+"
            regex = regex.replace(re.escape("{" + name + "}"), f"(?P<{name}>{value})")
        parts.append(regex)
    return re.compile("/" + "/".join(parts)), literals


@functools.cache
def load_spec() -> Spec:
    document = for_validation(merged_documents())
    operations = []
    for template, entry in document["paths"].items():
        pattern, literals = compile_template(template)
        for method in METHODS:
            if method in entry:
                operations.append(
                    Operation(
                        method=method.upper(),
                        template=template,
                        operation_id=entry[method]["operationId"],
                        spec=entry[method],
                        pattern=pattern,
                        literal_segments=literals,
                    )
                )
    return Spec(document, tuple(operations))


def find_operation(method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
    """The most specific operation for this method and concrete path."""
    candidates = []
    for operation in load_spec().operations:
        if operation.method != method.upper():
            continue
        params = operation.match(path)
        if params is not None:
            candidates.append((operation.literal_segments, operation, params))
    if not candidates:
        return None
    _, operation, params = max(candidates, key=lambda c: c[0])
    return operation, params


def allowed_methods(path: str) -> list[str]:
    return sorted(
        {op.method for op in load_spec().operations if op.match(path) is not None}
    )


def resolve(node: Json) -> Json:
    """Follow one `$ref` (parameters and responses are often references)."""
    while "$ref" in node:
        kind, name = node["$ref"].split("/")[-2:]
        node = load_spec().components[kind][name]
    return node


def with_components(schema: Json) -> Json:
    """A schema whose `#/components/...` references resolve inside itself."""
    return {**schema, "components": load_spec().components}


def schema_errors(
    schema: Json, value: Any, *, reading: bool, root: str = "body"
) -> list[str]:
    validator_class = OAS30ReadValidator if reading else OAS30WriteValidator
    validator = validator_class(with_components(schema))
    errors = sorted(
        validator.iter_errors(value), key=lambda e: list(map(str, e.absolute_path))
    )
    return [
        f"{'/'.join([root, *map(str, e.absolute_path)])}: {e.message[:300]}"
        for e in errors
    ]


def request_body_schema(operation: Operation) -> Json | None:
    body = operation.spec.get("requestBody")
    if body is None:
        return None
    content = resolve(body).get("content", {})
    media = content.get("application/json")
    return None if media is None else media.get("schema")


def body_errors(operation: Operation, body: Any, raw_present: bool) -> list[str]:
    """Problems with a request body against the operation's `requestBody`."""
    spec_body = operation.spec.get("requestBody")
    schema = request_body_schema(operation)
    if schema is None:
        return (
            ["operation takes no JSON body"]
            if raw_present and body not in (None, {})
            else []
        )
    if not raw_present:
        required = spec_body is not None and resolve(spec_body).get("required", False)
        return ["request body is required"] if required else []
    return schema_errors(schema, body, reading=False)


def query_errors(operation: Operation, query: dict[str, str]) -> list[str]:
    """Known query parameters whose values do not fit their schema.

    GitHub ignores unknown query parameters, so only declared ones are checked."""
    errors = []
    for parameter in map(resolve, operation.spec.get("parameters", [])):
        name = parameter["name"]
        if parameter["in"] != "query" or name not in query:
            continue
        value = coerce(query[name], parameter.get("schema", {}))
        schema = parameter.get("schema", {})
        errors += schema_errors(schema, value, reading=False, root=f"query {name}")
    return errors


def coerce(text: str, schema: Json) -> Any:
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
    except ValueError:
        return text
    if kind == "boolean" and text in ("true", "false"):
        return text == "true"
    return text


def response_schema(operation: Operation, status: int) -> Json | None:
    response = operation.spec.get("responses", {}).get(str(status))
    if response is None:
        return None
    for media, entry in resolve(response).get("content", {}).items():
        if "json" in media:
            return entry.get("schema")  # type: ignore[no-any-return]
    return None


def response_errors(operation: Operation, status: int, body: Any) -> list[str]:
    """Problems with a response body against the documented response for `status`."""
    responses = operation.spec.get("responses", {})
    if str(status) not in responses:
        return [f"status {status} is not documented for {operation.operation_id}"]
    schema = response_schema(operation, status)
    return [] if schema is None else schema_errors(schema, body, reading=True)
