"""Which task or installation a delivery concerns, read from its payload."""

from __future__ import annotations

from typing import Any


def _number(payload: dict[str, Any]) -> int | None:
    for key in ("issue", "pull_request"):
        item = payload.get(key)
        if isinstance(item, dict) and isinstance(item.get("number"), int):
            return int(item["number"])
    return _check_pull_number(payload)


def _check_pull_number(payload: dict[str, Any]) -> int | None:
    for key in ("check_run", "check_suite"):
        item = payload.get(key)
        if not isinstance(item, dict):
            continue
        pulls = item.get("pull_requests") or []
        if pulls and isinstance(pulls[0], dict):
            number = pulls[0].get("number")
            return int(number) if isinstance(number, int) else None
    return None


def _head_sha(payload: dict[str, Any]) -> str | None:
    for key in ("check_run", "check_suite"):
        item = payload.get(key)
        if isinstance(item, dict) and isinstance(item.get("head_sha"), str):
            return str(item["head_sha"])
    sha = payload.get("sha")
    return sha if isinstance(sha, str) else None


def repository_id(payload: dict[str, Any]) -> int | None:
    repository = payload.get("repository")
    if isinstance(repository, dict) and isinstance(repository.get("id"), int):
        return int(repository["id"])
    return None


def installation_id(payload: dict[str, Any]) -> int | None:
    installation = payload.get("installation")
    if isinstance(installation, dict) and isinstance(installation.get("id"), int):
        return int(installation["id"])
    return None


def subject_key(event: str, payload: dict[str, Any], delivery_id: str) -> str:
    """Deliveries with one key run one at a time, in arrival order.

    A task's events share `repo:<id>#<number>`. Check runs from forks list no
    pull request, so they fall back to the commit; the task row lock then
    keeps them consistent with events keyed by number.
    """
    repo = repository_id(payload)
    if event == "projects_v2_item":
        item = payload.get("projects_v2_item") or {}
        return f"item:{item.get('content_node_id') or item.get('node_id')}"
    if repo is not None:
        number = _number(payload)
        if number is not None:
            return f"repo:{repo}#{number}"
        sha = _head_sha(payload)
        if sha is not None:
            return f"repo:{repo}@{sha}"
        return f"repo:{repo}"
    installation = installation_id(payload)
    if installation is not None:
        return f"installation:{installation}"
    return f"delivery:{delivery_id}"
