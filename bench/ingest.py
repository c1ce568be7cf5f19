"""Ingest benchmark: workflow-bot's webhook endpoint beside a bare aiohttp app.

Run: python bench/ingest.py [--requests N]
Posts signed deliveries at 1, 16 and 64 concurrent requests to each server (both
started here on 127.0.0.1, each in its own process), prints deliveries per second,
p50/p99 answer time and each server's peak memory, then how many stored
deliveries per second one worker takes to done.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret"
BARE_APP = """
import sys
from aiohttp import web
async def ok(request):
    await request.read()
    return web.Response(text="ok")
app = web.Application()
app.router.add_post("/webhooks", ok)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def payload(n: int) -> bytes:
    return json.dumps(
        {
            "action": "edited",
            "issue": {
                "number": n % 500 + 1,
                "title": "benchmark issue",
                "body": "x" * 800,
            },
            "repository": {"id": 1, "full_name": "acme/bench"},
            "installation": {"id": 1},
            "sender": {"login": "someone", "id": 2, "type": "User"},
        }
    ).encode()


def signed(body: bytes) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": f"sha256={digest}",
    }


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def wait_up(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            try:
                async with session.post(url, data=b"{}") as response:
                    await response.read()
                    return
            except aiohttp.ClientError:
                await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


async def load(url: str, total: int, concurrency: int) -> tuple[float, list[float]]:
    bodies = [payload(n) for n in range(total)]
    timings: list[float] = []
    queue = iter(bodies)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client() -> None:
            for body in queue:
                started = time.perf_counter()
                async with session.post(url, data=body, headers=signed(body)) as r:
                    await r.read()
                    if r.status >= 300:
                        raise RuntimeError(f"answer {r.status}")
                timings.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return total / elapsed, timings


def quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q * 100) - 1] * 1000


async def measure(name: str, url: str, pid: int, total: int) -> dict[int, float]:
    rates = {}
    for concurrency in (1, 16, 64):
        rate, timings = await load(url, total, concurrency)
        rates[concurrency] = rate
        print(
            f"{name:12} c={concurrency:<3} {rate:8.0f} deliveries/s  "
            f"p50 {quantile(timings, 0.50):6.2f} ms  p99 {quantile(timings, 0.99):6.2f} ms  "
            f"peak {peak_rss_mib(pid):6.1f} MiB"
        )
    return rates


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, cwd=ROOT, env={**os.environ, **env})


async def worker_rate(database_url: str) -> None:
    sys.path.insert(0, str(ROOT))
    from bot.runtime import build_worker
    from bot.services import open_services
    from bot.settings import Settings

    settings = Settings(
        webhook_secret=SECRET,
        app_id="1",
        private_key="unused",
        app_slug="bench",
        database_url=database_url,
        worker_concurrency=16,
    )
    async with open_services(settings) as services:
        worker = build_worker(services)
        started = time.perf_counter()
        done = await worker.drain(max_steps=1_000_000)
        elapsed = time.perf_counter() - started
    print(f"worker: {done} stored deliveries to done at {done / elapsed:.0f}/s")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    total = parser.parse_args().requests
    folder = tempfile.mkdtemp(prefix="wfbench-")
    database_url = f"sqlite+aiosqlite:///{folder}/bench.db"
    bot_port, bare_port = free_port(), free_port()
    bot = start(
        [sys.executable, "-m", "bot", "serve", "--no-worker"],
        {
            "WEBHOOK_SECRET": SECRET,
            "DATABASE_URL": database_url,
            "HOST": "127.0.0.1",
            "PORT": str(bot_port),
            "LOG_LEVEL": "WARNING",
            "APP_ID": "",
        },
    )
    bare = start([sys.executable, "-c", BARE_APP, str(bare_port)], {})
    try:
        await wait_up(f"http://127.0.0.1:{bare_port}/webhooks")
        await wait_up(f"http://127.0.0.1:{bot_port}/webhooks")
        bare_rates = await measure(
            "bare aiohttp", f"http://127.0.0.1:{bare_port}/webhooks", bare.pid, total
        )
        bot_rates = await measure(
            "workflow-bot", f"http://127.0.0.1:{bot_port}/webhooks", bot.pid, total
        )
        for concurrency, rate in bot_rates.items():
            share = rate / bare_rates[concurrency] * 100
            print(
                f"c={concurrency}: workflow-bot ingest at {share:.0f}% of the bare app"
            )
    finally:
        bot.terminate()
        bare.terminate()
        bot.wait()
        bare.wait()
    await worker_rate(database_url)


if __name__ == "__main__":
    asyncio.run(main())
