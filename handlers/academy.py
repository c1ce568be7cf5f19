"""`/enroll`: the academy's slash command, registered with the comment runners."""

from __future__ import annotations

from bot import academy
from bot import commands as grammar
from bot.workflow import Refused, remember_user
from handlers.comments import Turn, runs


@runs(grammar.Enroll)
async def run_enroll(turn: Turn, _command: grammar.Enroll) -> str:
    ctx = turn.ctx
    if ctx.installation_id is None:
        raise Refused("the delivery names no installation to act as")
    if "pull_request" in ctx.payload["issue"]:
        raise Refused("enrol in an issue of the academy's hub, not a pull request")
    student = await remember_user(ctx.session, ctx.payload["comment"]["user"])
    result = await academy.enroll(
        ctx.session,
        ctx.services,
        student,
        str(ctx.repository["full_name"]),
        ctx.installation_id,
        announce_issue=int(ctx.payload["issue"]["number"]),
        source="command",
        delivery_id=ctx.delivery_id,
    )
    return academy.enrolment_text(result)
