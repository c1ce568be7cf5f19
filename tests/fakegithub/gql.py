"""GitHub's GraphQL schema: validate documents and execute them against the world."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    build_schema,
    execute,
    parse,
    validate,
)

SCHEMA_FILE = (
    Path(__file__).resolve().parents[1] / "fixtures" / "graphql" / "schema.graphql"
)


@functools.cache
def load_schema() -> GraphQLSchema:
    """GitHub's SDL, built once per process (about a second).

    The SDL defines one argument twice, hence `assume_valid_sdl`, and 12 interface
    fields differ in deprecation from their implementations, which graphql-core's
    strict schema check refuses; neither matters for validating documents."""
    schema = build_schema(SCHEMA_FILE.read_text(), assume_valid_sdl=True)
    schema._validation_errors = []  # see docstring
    return schema


def parse_and_validate(query: str) -> tuple[DocumentNode | None, list[str]]:
    """The parsed document, or the reasons GitHub would refuse it."""
    try:
        document = parse(query)
    except GraphQLError as error:
        return None, [error.message]
    errors = validate(load_schema(), document)
    return (None, [e.message for e in errors]) if errors else (document, [])


def is_mutation(document: DocumentNode, operation_name: str | None = None) -> bool:
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if operation_name is None or (
            definition.name and definition.name.value == operation_name
        ):
            return definition.operation == OperationType.MUTATION
    return False


class GitHubError(GraphQLError):
    """An error GitHub reports with a `type`, e.g. NOT_FOUND or UNPROCESSABLE."""

    def __init__(self, message: str, type_: str) -> None:
        super().__init__(message, extensions={"type": type_})


def run(
    document: DocumentNode,
    root: dict[str, Any],
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> dict[str, Any]:
    """Execute with the default resolvers over `root`: dicts, callables take args."""
    result = execute(
        load_schema(),
        document,
        root_value=root,
        variable_values=variables,
        operation_name=operation_name,
    )
    assert isinstance(result, ExecutionResult), "resolvers are synchronous"
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [github_error(e) for e in result.errors]
    return body


def github_error(error: GraphQLError) -> dict[str, Any]:
    """GitHub puts `type` beside `message`, not under `extensions`."""
    formatted: dict[str, Any] = dict(error.formatted)
    extensions: dict[str, Any] = formatted.pop("extensions", None) or {}
    if "type" in extensions:
        formatted = {"type": extensions["type"], **formatted}
    return formatted
