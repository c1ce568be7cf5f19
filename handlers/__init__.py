"""Webhook handlers, one module per GitHub event family."""

from __future__ import annotations

from gidgethub.routing import Router

from handlers import (
    checks,
    comments,
    installation,
    issues,
    projects,
    pulls,
    push,
    reviews,
)


def build_router() -> Router:
    return Router(
        installation.router,
        issues.router,
        comments.router,
        push.router,
        pulls.router,
        reviews.router,
        checks.router,
        projects.router,
    )
