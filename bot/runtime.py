"""Wires handlers and effects into a worker for one process."""

from __future__ import annotations

from typing import Any

from bot import board, reconcile, replies, workflow
from bot.approval import Approvals
from bot.checkrun import sync_check_run
from bot.effects import PUBLISH, Effects
from bot.mirror import Mirror
from bot.services import Services
from bot.worker import Worker
from handlers import build_router


def build_effects(services: Services) -> Effects:
    effects = Effects()

    async def publish(payload: dict[str, Any]) -> None:
        await services.publisher.publish(payload["name"], payload["data"])

    effects.register(PUBLISH, publish)
    mirror = Mirror(services)
    effects.register(workflow.SYNC, mirror.sync_task)
    effects.register(replies.COMMENT, mirror.comment)
    effects.register(replies.REACTION, mirror.reaction)
    effects.register(replies.ISSUE, mirror.issue)
    mirror.steps.append(sync_check_run)
    effects.register(workflow.APPROVED_EFFECT, Approvals(services).on_approved)
    mirror.steps.append(board.sync_board)
    return effects


def build_worker(services: Services) -> Worker:
    worker = Worker(services, build_router(), build_effects(services))
    if services.settings.reconcile_interval_seconds > 0:
        worker.background.append(
            lambda stop: reconcile.run_periodically(services, stop)
        )
    return worker
