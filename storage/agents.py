"""Agents as the core sees them: tortoise rows turned into `bot.desk.AgentView`s."""

from __future__ import annotations

from bot.desk import AgentView
from storage import models


def agent_view(row: models.Agent) -> AgentView:
    return AgentView(
        id=row.id,
        display_name=row.display_name,
        username=row.username,
        role=row.role,
        online=row.online,
    )
