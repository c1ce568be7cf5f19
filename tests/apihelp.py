"""Calling the REST API as a given person, over a world with one person per role."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot import auth
from storage.models import Role, User
from tests.fakegithub import FakeGitHub
from tests.harness import Answer, Bot
from tests.payloads import World, make_world

# One person per role; `eve` holds none. `root-admin` is SUPER_ADMIN by setting.
PEOPLE: dict[str, Role | None] = {
    "ada": Role.SUPER_ADMIN,
    "dana": Role.DESIGNER,
    "fred": Role.FE_DEV,
    "bea": Role.BE_DEV,
    "quinn": Role.QA,
    "rita": Role.REVIEWER,
    "sam": Role.STUDENT,
    "eve": None,
    "root-admin": None,
}
BY_ROLE: dict[Role | None, str] = {role: login for login, role in PEOPLE.items()}
BY_ROLE[Role.SUPER_ADMIN] = "ada"
BY_ROLE[None] = "eve"


@dataclass
class Api:
    bot: Bot
    gh: FakeGitHub
    world: World

    def user_id(self, login: str) -> int:
        return int(self.gh.user_json(login)["id"])

    def token(self, login: str) -> str:
        return auth.issue(self.bot.settings, self.user_id(login)).token

    async def call(
        self,
        method: str,
        path: str,
        *,
        as_: str | None = None,
        token: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        sent = dict(headers or {})
        if as_ is not None:
            token = self.token(as_)
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        data = None if body is None else json.dumps(body).encode()
        if data is not None:
            sent["Content-Type"] = "application/json"
        async with self.bot.client.request(
            method, self.bot.url + path, data=data, headers=sent, allow_redirects=False
        ) as response:
            text = await response.text()
            try:
                parsed = json.loads(text) if text else {}
            except ValueError:
                parsed = {"text": text}
            return Answer(response.status, parsed)

    async def new_task(self, creator: str = "dana", title: str = "Login page") -> int:
        answer = await self.call(
            "POST",
            "/tasks",
            as_=creator,
            body={"repository": self.world.repo, "title": title},
        )
        assert answer.status == 201, answer.body
        await self.bot.drain()
        return int(answer.body["id"])

    async def claim(self, task_id: int, login: str) -> None:
        """Claim through the GitHub door, as people do."""
        number = (await self.call("GET", f"/tasks/{task_id}", as_=login)).body[
            "issue_number"
        ]
        _, payload = self.world.comment(number, login, "/claim")
        await self.bot.handle("issue_comment", payload)

    async def submitted_task(self, worker: str = "fred") -> int:
        task_id = await self.new_task()
        await self.claim(task_id, worker)
        answer = await self.call(
            "POST", f"/tasks/{task_id}/submit", as_=worker, body={}
        )
        assert answer.status == 200, answer.body
        await self.bot.drain()
        return task_id


async def seed_people(bot: Bot, gh: FakeGitHub) -> None:
    """Everyone known to the database with a role, as a synced config leaves it."""
    async with bot.services.sessions.begin() as session:
        for login, role in PEOPLE.items():
            user = gh.user_json(login)
            session.add(
                User(id=user["id"], login=login, role=role, role_source="test", xp=0)
            )


async def make_api(bot: Bot, gh: FakeGitHub) -> Api:
    world = make_world(gh)
    gh.add_user("ada")
    await seed_people(bot, gh)
    return Api(bot, gh, world)
