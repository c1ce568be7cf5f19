"""The webhook view: verify, store in the inbox, answer. No GitHub call here."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web
from aiohttp.typedefs import Handler

from bot import metrics, subjects
from bot.appkeys import NEW_WORK, SERVICES, SETTINGS
from storage import inbox

log = logging.getLogger(__name__)

# GitHub does not deliver payloads over 25 MB; nothing bigger is genuine.
MAX_BODY_BYTES = 25 * 1024 * 1024
KNOWN_EVENTS = frozenset(
    yaml.safe_load((Path(__file__).parent.parent / "app.yml").read_text())[
        "default_events"
    ]
) | {"installation", "installation_repositories", "ping"}
SIGNATURE_SHAPE = re.compile(r"sha256=[0-9a-fA-F]{64}")
MAX_DELIVERY_ID = 64
KEPT_HEADERS = (
    "x-github-event",
    "x-github-delivery",
    "x-github-hook-id",
    "x-github-hook-installation-target-id",
    "x-github-hook-installation-target-type",
    "x-hub-signature-256",
    "x-github-enterprise-host",
    "x-github-enterprise-version",
    "user-agent",
    "content-type",
)


def error(status: int, code: str, message: str) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message": message}}, status=status
    )


def _event_label(request: web.Request, status: int) -> str:
    if status >= 300:
        return "refused"
    event = request.headers.get("X-GitHub-Event", "")
    return event if event in KNOWN_EVENTS else "other"


@web.middleware
async def count_answers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every answer of the webhook view, by event and status, for /metrics."""
    response = await handler(request)
    if request.path == "/webhooks":
        # Only verified deliveries name their event: a label per value an
        # unsigned request made up would grow /metrics without bound.
        event = _event_label(request, response.status)
        answer = str(response.status)
        metrics.DELIVERIES_RECEIVED.labels(event=event, answer=answer).inc()
    return response


def signature_matches(secret: str, body: bytes, header: str | None) -> bool:
    """Constant-time check of `X-Hub-Signature-256` over the raw bytes."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256="))


def looks_signed(header: str | None) -> bool:
    """A well-formed `sha256=<64 hex>` header, checked before reading any body."""
    return bool(header) and SIGNATURE_SHAPE.fullmatch(header or "") is not None


async def receive(request: web.Request) -> web.Response:
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return error(413, "too_large", "webhook bodies are capped at 25 MiB")
    if not looks_signed(request.headers.get("X-Hub-Signature-256")):
        # Refuse before reading: an unsigned body costs us nothing.
        return error(401, "bad_signature", "X-Hub-Signature-256 is missing or wrong")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return error(413, "too_large", "webhook bodies are capped at 25 MiB")
    settings = request.app[SETTINGS]
    if not signature_matches(
        settings.webhook_secret, body, request.headers.get("X-Hub-Signature-256")
    ):
        log.warning("signature rejected", extra={"remote": request.remote})
        return error(401, "bad_signature", "X-Hub-Signature-256 is missing or wrong")
    return await _accept(request, body)


async def _accept(request: web.Request, body: bytes) -> web.Response:
    event = request.headers.get("X-GitHub-Event")
    delivery_id = request.headers.get("X-GitHub-Delivery")
    if not event or not delivery_id:
        return error(
            400, "missing_header", "X-GitHub-Event and X-GitHub-Delivery are required"
        )
    if len(delivery_id) > MAX_DELIVERY_ID or len(event) > MAX_DELIVERY_ID:
        # Cutting them would merge distinct deliveries under one id.
        return error(
            400, "bad_header", "X-GitHub-Delivery or X-GitHub-Event is too long"
        )
    payload = _json_object(body)
    if payload is None:
        return error(400, "bad_body", "the body is not a JSON object")
    if event == "ping":
        return web.json_response({"status": "pong", "zen": payload.get("zen")})
    try:
        new = await _store(request, event, delivery_id, payload, body)
    except Exception:  # database down: GitHub marks it failed, to redeliver later
        log.exception("delivery not stored", extra={"delivery": delivery_id})
        return error(503, "not_stored", "the delivery could not be stored; retry")
    if not new:
        log.info("duplicate delivery", extra={"delivery": delivery_id, "event": event})
        return web.json_response({"status": "duplicate", "delivery": delivery_id})
    request.app[NEW_WORK].set()
    return web.json_response({"status": "queued", "delivery": delivery_id}, status=202)


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return None
    return payload if isinstance(payload, dict) else None


async def _store(
    request: web.Request,
    event: str,
    delivery_id: str,
    payload: dict[str, Any],
    body: bytes,
) -> bool:
    action = payload.get("action")
    delivery = inbox.NewDelivery(
        delivery_id=delivery_id,
        event=event,
        action=action[:64] if isinstance(action, str) else None,
        installation_id=subjects.installation_id(payload),
        repository_id=subjects.repository_id(payload),
        subject_key=subjects.subject_key(event, payload, delivery_id)[:128],
        headers={k: v for k in KEPT_HEADERS if (v := request.headers.get(k))},
        body=body,
    )
    return await request.app[SERVICES].writer.store(delivery)
