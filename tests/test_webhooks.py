"""Receiving deliveries: signatures, limits, duplicates, and every recorded payload."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
import logging
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select, update

from bot.runtime import build_worker
from storage import inbox
from storage.models import Delivery, DeliveryState, Installation, Repository
from tests.fakegithub import FakeGitHub
from tests.harness import FIXTURES, Bot, sign

APP_YML = Path(__file__).parent.parent / "app.yml"
SUBSCRIBED = set(yaml.safe_load(APP_YML.read_text())["default_events"]) | {
    "installation",
    "installation_repositories",
}


def headers(
    body: bytes, event: str = "issues", delivery: str = "d-1"
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": sign(body),
    }


async def stored(bot: Bot) -> list[Delivery]:
    async with bot.services.sessions() as session:
        return list((await session.scalars(select(Delivery))).all())


def example_payloads() -> list[tuple[str, Path]]:
    root = FIXTURES / "webhooks" / "examples"
    return [
        (path.parent.name, path)
        for path in sorted(root.glob("*/*.json"))
        if path.parent.name in SUBSCRIBED
    ]


def test_github_documented_signature_vector() -> None:
    from bot.webhooks import signature_matches

    digest = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    secret = "It's a Secret to Everybody"
    assert signature_matches(secret, b"Hello, World!", f"sha256={digest}")
    assert not signature_matches(secret, b"Hello, World?", f"sha256={digest}")


@pytest.mark.parametrize(
    "signature",
    [None, "", "sha1=0123", "sha256=", "sha256=zz", "sha256=" + "0" * 64, "garbage"],
)
async def test_bad_signature_is_401_and_stores_nothing(
    bot: Bot, signature: str | None
) -> None:
    body = b'{"action": "opened"}'
    sent = headers(body)
    del sent["X-Hub-Signature-256"]
    if signature is not None:
        sent["X-Hub-Signature-256"] = signature

    answer = await bot.post_raw(body, sent)

    assert answer.status == 401
    assert answer.body["error"]["code"] == "bad_signature"
    assert await stored(bot) == []


async def test_signature_over_other_bytes_is_rejected(bot: Bot) -> None:
    body = b'{"action": "opened"}'
    sent = headers(b'{"action":"opened"}')  # same JSON, different bytes

    answer = await bot.post_raw(body, sent)

    assert answer.status == 401


async def test_oversized_body_is_413_without_storing(bot: Bot) -> None:
    body = b"x" * (25 * 1024 * 1024 + 1)

    answer = await bot.post_raw(io.BytesIO(body), headers(body))

    assert answer.status == 413
    assert await stored(bot) == []


async def test_oversized_chunked_body_is_413(bot: Bot) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(26):
            yield b"x" * (1024 * 1024)

    answer = await bot.post_raw(chunks(), headers(b"x"))

    assert answer.status == 413
    assert await stored(bot) == []


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"text"', b""])
async def test_signed_body_that_is_not_a_json_object_is_400(
    bot: Bot, body: bytes
) -> None:
    answer = await bot.post_raw(body, headers(body))

    assert answer.status == 400
    assert await stored(bot) == []


@pytest.mark.parametrize("missing", ["X-GitHub-Event", "X-GitHub-Delivery"])
async def test_missing_event_headers_are_400(bot: Bot, missing: str) -> None:
    body = b'{"action": "opened"}'
    sent = headers(body)
    del sent[missing]

    answer = await bot.post_raw(body, sent)

    assert answer.status == 400
    assert missing in answer.body["error"]["message"]


async def test_ping_is_answered_200_and_not_stored(bot: Bot) -> None:
    payload = json.loads((FIXTURES / "webhooks/examples/ping/payload.json").read_text())

    answer = await bot.deliver("ping", payload)

    assert answer.status == 200 and answer.body["status"] == "pong"
    assert await stored(bot) == []


async def test_duplicate_delivery_is_stored_and_processed_once(
    bot: Bot, gh: FakeGitHub
) -> None:
    payload = json.loads(
        (FIXTURES / "webhooks/examples/installation/created.payload.json").read_text()
    )
    first = await bot.deliver("installation", payload, delivery_id="same")
    second = await bot.deliver("installation", payload, delivery_id="same")

    assert first.status == 202 and first.body["status"] == "queued"
    assert second.status == 200 and second.body["status"] == "duplicate"
    assert await bot.drain() == 1
    [row] = await stored(bot)
    assert row.state == DeliveryState.DONE and row.attempts == 1


@pytest.mark.parametrize(
    ("event", "path"), example_payloads(), ids=lambda v: getattr(v, "name", v)
)
async def test_every_recorded_payload_is_accepted_and_done(
    bot: Bot, gh: FakeGitHub, event: str, path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    payload = json.loads(path.read_text())

    answer = await bot.deliver(event, payload)
    with caplog.at_level(logging.WARNING):
        await bot.drain()

    assert answer.status == 202
    [row] = await stored(bot)
    assert row.state == DeliveryState.DONE, row.last_error
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []


async def test_installation_and_repositories_are_recorded(bot: Bot) -> None:
    root = FIXTURES / "webhooks/examples"
    created = json.loads((root / "installation/created.payload.json").read_text())
    added = json.loads(
        (root / "installation_repositories/added.payload.json").read_text()
    )
    await bot.handle("installation", created)
    await bot.handle("installation_repositories", added)

    async with bot.services.sessions() as session:
        installation = await session.get(Installation, created["installation"]["id"])
        repositories = (await session.scalars(select(Repository))).all()
    assert installation is not None
    assert installation.account_login == created["installation"]["account"]["login"]
    names = {r.full_name for r in repositories if r.active}
    assert added["repositories_added"][0]["full_name"] in names


async def test_row_left_processing_by_a_crash_is_done_after_restart_once(
    bot: Bot, gh: FakeGitHub
) -> None:
    payload = json.loads(
        (FIXTURES / "webhooks/examples/installation/created.payload.json").read_text()
    )
    await bot.deliver("installation", payload, delivery_id="crash")
    # A worker claims the row, then its process dies before finishing.
    claimed = await inbox.claim(
        bot.services.sessions, limit=10, lease=timedelta(minutes=5)
    )
    assert [row.delivery_id for row in claimed] == ["crash"]
    assert await bot.drain() == 0  # the lease still protects it

    released = await inbox.release_all_leases(bot.services.sessions)  # restart
    await build_worker(bot.services).drain()

    assert released == 1
    [row] = await stored(bot)
    assert row.state == DeliveryState.DONE and row.attempts == 2
    assert await bot.drain() == 0


async def test_expired_lease_is_claimed_again(bot: Bot) -> None:
    payload = {"action": "created", "installation": {"id": 1, "account": {}}}
    await bot.deliver("installation", payload, delivery_id="lease")
    await inbox.claim(bot.services.sessions, limit=10, lease=timedelta(seconds=-1))

    assert await bot.drain() == 1
    [row] = await stored(bot)
    assert row.state == DeliveryState.DONE


async def test_same_subject_runs_in_arrival_order_one_at_a_time(bot: Bot) -> None:
    base = {"repository": {"id": 7, "full_name": "acme/x"}, "issue": {"number": 3}}
    other = {"repository": {"id": 7, "full_name": "acme/x"}, "issue": {"number": 4}}
    for n, payload in enumerate([base, base, other]):
        await bot.deliver(
            "issues", {**payload, "action": "edited"}, delivery_id=f"s{n}"
        )

    first = await inbox.claim(
        bot.services.sessions, limit=10, lease=timedelta(minutes=1)
    )

    assert sorted(row.delivery_id for row in first) == ["s0", "s2"]
    second = await inbox.claim(
        bot.services.sessions, limit=10, lease=timedelta(minutes=1)
    )
    assert second == []  # s1 waits for s0 to finish


async def test_transient_github_failure_retries_then_succeeds(
    bot: Bot, gh: FakeGitHub
) -> None:
    from tests.payloads import make_world

    world = make_world(gh)
    gh.fail("GET", "/repos/{owner}/{repo}/contents/{path}", status=502, times=1)
    _, payload = world.open_issue("dana")

    await bot.handle("issues", payload)

    [row] = await stored(bot)
    assert row.state == DeliveryState.DONE and row.attempts == 2


async def test_secondary_rate_limit_honours_retry_after(
    bot: Bot, gh: FakeGitHub
) -> None:
    from tests.payloads import make_world

    world = make_world(gh)
    gh.rate_limit_secondary(times=1, retry_after=120)
    _, payload = world.open_issue("dana")
    await bot.deliver("issues", payload)

    await bot.drain()

    [row] = await stored(bot)
    assert row.state == DeliveryState.PENDING
    assert "rate limit" in (row.last_error or "")
    wait = row.next_attempt_at - row.received_at
    assert wait >= timedelta(seconds=119)


async def test_permanent_failure_is_failed_with_reason(
    bot: Bot, gh: FakeGitHub
) -> None:
    from tests.payloads import make_world

    world = make_world(gh)
    gh.fail("GET", "/repos/{owner}/{repo}/contents/{path}", status=403, times=5)
    _, payload = world.open_issue("dana")

    await bot.handle("issues", payload)

    [row] = await stored(bot)
    assert row.state == DeliveryState.FAILED
    assert "403" in (row.last_error or "")


async def test_repeated_transient_failures_end_dead(bot: Bot, gh: FakeGitHub) -> None:
    from tests.payloads import make_world

    world = make_world(gh)
    gh.fail("GET", "/repos/{owner}/{repo}/contents/{path}", status=503, times=50)
    _, payload = world.open_issue("dana")
    await bot.deliver("issues", payload)

    for _ in range(bot.settings.max_attempts + 1):
        await bot.drain()
        async with bot.services.sessions.begin() as session:
            await session.execute(
                update(Delivery).values(next_attempt_at=Delivery.received_at)
            )

    [row] = await stored(bot)
    assert row.state == DeliveryState.DEAD
    assert row.attempts == bot.settings.max_attempts


async def test_own_bot_events_are_recorded_not_acted_on(
    bot: Bot, gh: FakeGitHub
) -> None:
    from tests.payloads import make_world

    world = make_world(gh)
    _, payload = world.open_issue("dana")
    payload["sender"] = gh.app_bot_user

    await bot.handle("issues", payload)

    [row] = await stored(bot)
    assert row.state == DeliveryState.DONE
    assert gh.writes() == []


async def test_health_and_metrics_report_the_inbox(bot: Bot) -> None:
    body = b'{"action": "created", "installation": {"id": 9, "account": {}}}'
    await bot.post_raw(body, headers(body, event="installation", delivery="m-1"))
    await bot.post_raw(b"{}", {"X-Hub-Signature-256": "sha256=00"})

    async with bot.client.get(bot.url + "/healthz") as health:
        assert health.status == 200
    async with bot.client.get(bot.url + "/metrics") as response:
        text = await response.text()

    assert 'workflow_bot_inbox_depth{state="pending"} 1.0' in text
    assert 'answer="401"' in text and 'event="installation"' in text
    assert 'event="refused"' in text
