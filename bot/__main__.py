"""Command line: serve, worker, migrate, receive, replay, deliveries, token, setup,
reconcile."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import secrets
import shutil
import signal
import sys
import tempfile
import uuid
from collections.abc import Callable, Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot import auth, logs, outbox, reconcile
from bot.apierrors import ApiError
from bot.app import create_app
from bot.runtime import build_worker
from bot.services import open_services
from bot.settings import Settings, SettingsError, from_env, load_environment
from storage import inbox, migrate
from storage.models import DeliveryState


def _settings(*, require_github: bool) -> Settings:
    settings = from_env(load_environment())
    if require_github:
        settings.require_github()
    return settings


def _registration_settings() -> Settings:
    """Settings for a server that has no App yet: it can only register one.

    Without a webhook secret, a secret nobody knows is used, so no delivery
    can be verified (every one is refused) until GitHub hands the real one back.
    """
    env = load_environment()
    if env.get("APP_ID", "").strip():
        return from_env(env)
    if not env.get("WEBHOOK_SECRET", "").strip():
        env["WEBHOOK_SECRET"] = secrets.token_hex(32)
    return from_env(env)


def cmd_serve(args: argparse.Namespace) -> None:
    settings = _registration_settings()
    logs.configure(settings.log_level)
    if not settings.can_call_github:
        print(
            "APP_ID is not set: open the registration page at "
            f"http://127.0.0.1:{settings.port}/setup (deliveries stay queued "
            "until the App is registered)",
            file=sys.stderr,
        )
    web.run_app(
        create_app(settings, run_worker=not args.no_worker),
        host=settings.host,
        port=settings.port,
        access_log=None,
        print=None,
    )


def cmd_setup(_args: argparse.Namespace) -> None:
    settings = _registration_settings()
    logs.configure(settings.log_level)
    print(f"open http://127.0.0.1:{settings.port}/setup", file=sys.stderr)
    app = create_app(settings, run_worker=False, registration=True)
    web.run_app(app, host=settings.host, port=settings.port, print=None)


def cmd_worker(_args: argparse.Namespace) -> None:
    settings = _settings(require_github=True)
    logs.configure(settings.log_level)

    async def run() -> None:
        async with open_services(settings) as services:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            if settings.is_sqlite:
                await inbox.release_all_leases(services.sessions)
                await outbox.release_all_leases(services.sessions)
            await build_worker(services).run(stop)

    asyncio.run(run())


def cmd_migrate(_args: argparse.Namespace) -> None:
    settings = _settings(require_github=False)
    migrate.upgrade_url(settings.database_url)
    print("database is at the newest schema")


def cmd_receive(args: argparse.Namespace) -> None:
    """Run one payload file through the handlers, as if GitHub had sent it."""
    settings = _settings(require_github=True)
    logs.configure(settings.log_level)
    body = Path(args.payload).read_bytes()
    try:
        action = json.loads(body).get("action")
    except (ValueError, AttributeError):
        sys.exit(f"workflow-bot: {args.payload} is not a JSON object")
    if args.dry_run:
        settings = _scratch_database(settings)

    async def run() -> bool:
        async with open_services(settings, dry_run=args.dry_run) as services:
            delivery = inbox.NewDelivery(
                delivery_id=f"local-{uuid.uuid4()}",
                event=args.event,
                action=action if isinstance(action, str) else None,
                installation_id=None,
                repository_id=None,
                subject_key=f"local:{uuid.uuid4()}",
                headers={"x-github-event": args.event},
                body=body,
            )
            async with services.sessions.begin() as session:
                await inbox.store(session, delivery)
            await build_worker(services).drain()
            row = await inbox.by_delivery_id(services.sessions, delivery.delivery_id)
            state = row.state if row else "missing"
            print(f"{delivery.delivery_id} {state} {row.last_error if row else ''}")
            return row is not None and row.state == DeliveryState.DONE

    if not asyncio.run(run()):
        sys.exit(1)


def _scratch_database(settings: Settings) -> Settings:
    """A dry run works on a copy, so nothing it queues can run for real later."""
    folder = Path(tempfile.mkdtemp(prefix="workflow-bot-dry-run-"))
    scratch = folder / "dry-run.db"
    source = settings.database_url.removeprefix("sqlite+aiosqlite:///")
    if settings.is_sqlite and Path(source).is_file():
        shutil.copyfile(source, scratch)
    else:
        print("dry run on an empty scratch database", file=sys.stderr)
    return dataclasses.replace(settings, database_url=f"sqlite+aiosqlite:///{scratch}")


def cmd_replay(args: argparse.Namespace) -> None:
    settings = _settings(require_github=False)
    found = _run_with_services(
        settings, lambda s: inbox.requeue(s.sessions, args.delivery_id)
    )
    if not found:
        sys.exit(f"no stored delivery {args.delivery_id}")
    print(f"{args.delivery_id} queued again; a running worker will pick it up")


def cmd_token(args: argparse.Namespace) -> None:
    """Print an API token for a user: for operators and scripts."""
    settings = _settings(require_github=False)
    if not settings.api_secret:
        sys.exit("workflow-bot: API_SECRET is not set: tokens cannot be signed")
    lifetime = timedelta(hours=args.hours)
    try:
        issued = _run_with_services(
            settings, lambda s: auth.token_for_login(s, args.login, lifetime)
        )
    except LookupError as exc:
        sys.exit(f"workflow-bot: {exc}")
    except ApiError as exc:
        sys.exit(f"workflow-bot: {exc.message}")
    print(issued.token)
    print(f"expires {issued.expires_at.isoformat()}", file=sys.stderr)


def cmd_deliveries(args: argparse.Namespace) -> None:
    settings = _settings(require_github=False)
    rows = _run_with_services(settings, lambda s: inbox.recent(s.sessions, args.limit))
    for row in rows:
        error = (row.last_error or "").splitlines()[0][:80] if row.last_error else ""
        print(
            f"{row.received_at:%Y-%m-%d %H:%M:%S} {row.delivery_id} "
            f"{row.event}.{row.action or '-'} {row.state} "
            f"attempts={row.attempts} {error}"
        )


def cmd_reconcile(args: argparse.Namespace) -> None:
    """Bring labels and board cards in step with every open task's status."""
    settings = _settings(require_github=True)
    logs.configure(settings.log_level)

    async def run() -> reconcile.Report:
        async with open_services(settings, dry_run=args.dry_run) as services:
            return await reconcile.reconcile(
                services, repository=args.repo, dry_run=args.dry_run
            )

    report = asyncio.run(run())
    for line in reconcile.describe(report, dry_run=args.dry_run):
        print(line)
    if not report.finished:
        sys.exit(75)  # EX_TEMPFAIL: run again to resume


def _run_with_services(
    settings: Settings, job: Callable[[Any], Coroutine[Any, Any, Any]]
) -> Any:
    async def run() -> Any:
        async with open_services(settings) as services:
            return await job(services)

    return asyncio.run(run())


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="answer webhooks (and work, by default)")
    serve.add_argument("--no-worker", action="store_true", help="web process only")
    serve.set_defaults(run=cmd_serve)
    commands.add_parser("worker", help="drain the inbox only").set_defaults(
        run=cmd_worker
    )
    commands.add_parser("migrate", help="upgrade the database schema").set_defaults(
        run=cmd_migrate
    )
    receive = commands.add_parser("receive", help="run one payload file")
    receive.add_argument("--event", required=True, help="e.g. issues")
    receive.add_argument("--payload", required=True, help="JSON file")
    receive.add_argument(
        "--dry-run", action="store_true", help="print GitHub writes, send none"
    )
    receive.set_defaults(run=cmd_receive)
    replay = commands.add_parser("replay", help="run a stored delivery again")
    replay.add_argument("delivery_id")
    replay.set_defaults(run=cmd_replay)
    deliveries = commands.add_parser("deliveries", help="list recent deliveries")
    deliveries.add_argument("--limit", type=int, default=20)
    deliveries.set_defaults(run=cmd_deliveries)
    token = commands.add_parser("token", help="print an API token for a user")
    token.add_argument("login", help="GitHub login")
    token.add_argument("--hours", type=float, default=12.0, help="lifetime")
    token.set_defaults(run=cmd_token)
    fix = commands.add_parser(
        "reconcile", help="fix labels and board cards that disagree with tasks"
    )
    fix.add_argument("--repo", help="owner/name: only this repository's tasks")
    fix.add_argument(
        "--dry-run", action="store_true", help="report differences, change nothing"
    )
    fix.set_defaults(run=cmd_reconcile)
    commands.add_parser("setup", help="register the App from app.yml").set_defaults(
        run=cmd_setup
    )
    return top


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except SettingsError as exc:
        sys.exit(f"workflow-bot: {exc}")
    except (aiohttp.ClientError, OSError) as exc:
        sys.exit(f"workflow-bot: network error ({type(exc).__name__}): {exc}")


if __name__ == "__main__":
    main()
