"""Hostile requests to POST /webhooks: signatures, bodies, headers, duplicates."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid

import pytest
from sqlalchemy import func, select

from storage.models import Delivery
from tests.fakegithub import FakeGitHub
from tests.harness import SECRET, Bot, sign
from tests.payloads import World, make_world


@pytest.fixture
def world(gh: FakeGitHub) -> World:
    return make_world(gh)


def headers(body: bytes, **extra: str) -> dict[str, str]:
    h = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(body),
    }
    h.update(extra)
    return h


async def count(bot: Bot) -> int:
    async with bot.services.sessions() as session:
        return int(
            await session.scalar(select(func.count()).select_from(Delivery)) or 0
        )


async def test_sha1_only_signature_is_refused(bot: Bot) -> None:
    body = b'{"action": "opened"}'
    h = headers(body)
    del h["X-Hub-Signature-256"]
    h["X-Hub-Signature"] = (
        "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    )
    answer = await bot.post_raw(body, h)
    assert answer.status == 401
    assert await count(bot) == 0


@pytest.mark.parametrize(
    "sig",
    [
        "",
        "sha256=",
        "sha256=zz",
        "SHA256=" + "0" * 64,
        "sha256=" + "0" * 64,
        "sha1=abc",
    ],
)
async def test_bad_signatures(bot: Bot, sig: str) -> None:
    body = b'{"action": "opened"}'
    answer = await bot.post_raw(body, headers(body, **{"X-Hub-Signature-256": sig}))
    assert answer.status == 401


async def test_uppercase_hex_signature_of_right_digest(bot: Bot) -> None:
    """Same digest in upper-case hex: GitHub sends lower-case; either answer is ok."""
    body = b'{"action": "opened"}'
    sig = (
        "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest().upper()
    )
    answer = await bot.post_raw(body, headers(body, **{"X-Hub-Signature-256": sig}))
    assert answer.status in (202, 401)


async def test_deeply_nested_json_is_a_clean_400(bot: Bot) -> None:
    body = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    answer = await bot.post_raw(body, headers(body))
    assert answer.status == 400, answer


async def test_json_array_and_scalar_bodies_are_400(bot: Bot) -> None:
    for body in (b"[]", b"1", b'"x"', b"null", b""):
        answer = await bot.post_raw(body, headers(body))
        assert answer.status == 400, (body, answer)
    assert await count(bot) == 0


async def test_invalid_utf8_is_400(bot: Bot) -> None:
    body = b'{"action": "\xff\xfe"}'
    answer = await bot.post_raw(body, headers(body))
    assert answer.status == 400


async def test_nan_and_huge_numbers(bot: Bot, world: World) -> None:
    """Python's json accepts NaN/Infinity and giant ints; the worker must not wedge."""
    for raw in (
        b'{"action":"opened","issue":{"number":NaN},"repository":{"id":Infinity}}',
        b'{"action":"opened","issue":{"number":' + b"9" * 4000 + b"}}",
    ):
        answer = await bot.post_raw(raw, headers(raw))
        assert answer.status in (202, 400), answer
    await bot.drain()


async def test_same_delivery_id_burst_stored_once(bot: Bot, world: World) -> None:
    number, payload = world.open_issue("dana")
    body = json.dumps(payload).encode()
    delivery = str(uuid.uuid4())
    answers = await asyncio.gather(
        *(
            bot.post_raw(body, headers(body, **{"X-GitHub-Delivery": delivery}))
            for _ in range(50)
        )
    )
    statuses = sorted(a.status for a in answers)
    assert statuses.count(202) == 1, statuses
    assert await count(bot) == 1


async def test_long_delivery_ids_sharing_a_prefix_are_not_merged(
    bot: Bot, world: World
) -> None:
    """Over-long ids are refused outright rather than cut into one another."""
    prefix = "x" * 64
    _, p1 = world.open_issue("dana", title="one")
    _, p2 = world.open_issue("dana", title="two")
    b1, b2 = json.dumps(p1).encode(), json.dumps(p2).encode()
    a1 = await bot.post_raw(b1, headers(b1, **{"X-GitHub-Delivery": prefix + "-1"}))
    a2 = await bot.post_raw(b2, headers(b2, **{"X-GitHub-Delivery": prefix[:60]}))
    assert a1.status == 400 and a1.body["error"]["code"] == "bad_header"
    assert a2.status == 202


async def test_unicode_event_name_and_odd_headers(bot: Bot, world: World) -> None:
    _, payload = world.open_issue("dana")
    body = json.dumps(payload).encode()
    for event in ("issues\u00e9", "x" * 5000, "../../etc", "issue_comment\t"):
        h = headers(body, **{"X-GitHub-Event": event})
        answer = await bot.post_raw(
            body, {k: v.encode("utf-8").decode("latin-1") for k, v in h.items()}
        )
        assert answer.status in (202, 400), (event, answer)
    await bot.drain()
    metrics = await bot.client.get(bot.url + "/metrics")
    assert metrics.status == 200


async def test_payload_with_wrong_types_does_not_retry_forever(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    """A signed but malformed payload (issue without fields) should end, not loop."""
    payload = {
        "action": "opened",
        "issue": {"number": 1},
        "repository": {"id": 1},
        "installation": {"id": world.installation_id},
    }
    await bot.deliver("issues", payload)
    await bot.drain()
    async with bot.services.sessions() as session:
        row = (await session.scalars(select(Delivery))).one()
    assert row.state in ("done", "failed", "dead"), (
        row.state,
        row.attempts,
        row.last_error,
    )


async def test_huge_body_over_limit_chunked(bot: Bot) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        piece = b" " * (1024 * 1024)
        yield b'{"a":"'
        for _ in range(26):
            yield piece
        yield b'"}'

    h = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": "big",
        "X-Hub-Signature-256": "sha256=" + "0" * 64,
    }
    async with bot.client.post(bot.url + "/webhooks", data=chunks(), headers=h) as r:
        assert r.status == 413


async def test_unsigned_requests_cannot_grow_metrics_without_bound(bot: Bot) -> None:
    """The answer counter is labelled by the X-GitHub-Event header of *every*
    request, signed or not: anyone can add series to /metrics forever."""
    async with bot.client.get(bot.url + "/metrics") as r:
        before = len(await r.read())
    for _ in range(300):
        await bot.post_raw(
            b"{}",
            {
                "X-GitHub-Event": uuid.uuid4().hex,
                "X-GitHub-Delivery": "x",
                "X-Hub-Signature-256": "sha256=00",
            },
        )
    async with bot.client.get(bot.url + "/metrics") as r:
        after = len(await r.read())
    assert after - before < 10_000, f"/metrics grew by {after - before} bytes"


async def test_request_without_signature_is_refused_before_its_body(bot: Bot) -> None:
    """Without any X-Hub-Signature-256 header the view still waits for, and
    buffers, up to 25 MiB of body before answering 401 (40 such requests held
    ~1.1 GB RSS on the real server). It could answer from the headers alone."""
    host, port = bot.server.host, bot.server.port
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        b"POST /webhooks HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: issues\r\n"
        b"X-GitHub-Delivery: x\r\nContent-Length: 20000000\r\n\r\n"
    )
    await writer.drain()
    try:
        line = await asyncio.wait_for(reader.readline(), timeout=2)
    except TimeoutError:
        line = b""
    finally:
        writer.close()
    assert line.startswith(b"HTTP/1.1 401"), "the server waited for the body"
