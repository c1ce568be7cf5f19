"""The command line: receive --dry-run, deliveries, replay, migrate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.fakegithub import FakeGitHub
from tests.harness import SECRET
from tests.payloads import make_world

ROOT = Path(__file__).parent.parent


def cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_receive_dry_run_prints_writes_and_sends_none(
    gh: FakeGitHub, app_key: tuple[str, str], tmp_path: Path
) -> None:
    world = make_world(gh)
    _, payload = world.open_issue("dana")
    path = tmp_path / "opened.json"
    path.write_text(json.dumps(payload))
    env = {
        "WEBHOOK_SECRET": SECRET,
        "APP_ID": str(gh.app_id),
        "APP_SLUG": gh.app_slug,
        "PRIVATE_KEY": app_key[0],
        "GITHUB_API_URL": gh.url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
    }

    result = await _run(
        ["receive", "--event", "issues", "--payload", str(path), "--dry-run"],
        env,
        tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert "DRY-RUN POST" in result.stdout and "status: todo" in result.stdout
    assert gh.writes() == []
    assert gh.issue(world.repo, 1)["labels"] == []

    assert (
        "issues.opened done" not in (await _run(["deliveries"], env, tmp_path)).stdout
    )
    # A dry run leaves nothing behind that a real worker could carry out.
    real = await _run(
        ["receive", "--event", "issues", "--payload", str(path)], env, tmp_path
    )
    assert real.returncode == 0, real.stderr
    listing = await _run(["deliveries"], env, tmp_path)
    assert "issues.opened done" in listing.stdout
    assert "status: todo" in gh.issue(world.repo, 1)["labels"]


async def _run(
    args: list[str], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    import asyncio

    # The fake GitHub runs on this test's event loop: keep it free while the CLI runs.
    return await asyncio.to_thread(cli, *args, env=env, cwd=cwd)


def test_migrate_creates_the_schema(tmp_path: Path) -> None:
    env = {
        "WEBHOOK_SECRET": "s",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'm.db'}",
    }
    result = cli("migrate", env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "m.db").exists()


def test_replay_of_unknown_delivery_says_so(tmp_path: Path) -> None:
    env = {
        "WEBHOOK_SECRET": "s",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'r.db'}",
    }
    result = cli("replay", "nope", env=env, cwd=tmp_path)

    assert result.returncode != 0
    assert "no stored delivery nope" in result.stderr


def test_bad_log_level_and_database_url_stop_with_one_line(tmp_path: Path) -> None:
    for name, value in (("LOG_LEVEL", "bogus"), ("DATABASE_URL", "nonsense://x")):
        result = cli("migrate", env={"WEBHOOK_SECRET": "s", name: value}, cwd=tmp_path)
        assert result.returncode != 0
        [line] = result.stderr.strip().splitlines()
        assert line.startswith("workflow-bot: ") and name in line
