"""Staff in storage: agents, the topic of each customer, and what staff do to tickets.

Every change to a ticket is one transaction that updates the ticket, records who did what
in its history, writes the ACTIVITY message staff see in the topic, and queues whatever
the customer is told, so none of them can happen without the others.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from bot.desk import (
    COMMAND_LINE_USERNAME,
    AgentView,
    AiScope,
    ChangeResult,
    DraftOutcome,
    StaffIdentity,
    TagChange,
    TicketChange,
)
from bot.types import (
    AIUsage,
    AutomationLevel,
    ChannelAddress,
    Deliveries,
    Direction,
    HandoffState,
    OutboundReply,
    Role,
    SenderKind,
    StaffEvent,
    TicketPriority,
    TicketRequest,
    TicketStatus,
    TicketView,
)
from storage import models, sql
from storage.agents import agent_view
from storage.drafts import settle_draft
from storage.faq import FaqStore
from storage.inbound import LEASE, now
from storage.reports import ReportStore
from storage.staff_posts import load_staff_posts
from storage.tickets import ACTIVE_STATUSES, open_or_raise_ticket, record_event
from storage.views import ticket_view
from storage.writes import MessageWriter, Outgoing

AI_SWITCH_KEY = "ai_enabled"
DONE_STATUSES = (TicketStatus.RESOLVED, TicketStatus.CLOSED, TicketStatus.CANCELLED)


class StaffStore:
    """Implements `bot.desk.StaffStore` on tortoise.

    `lease` is how long what a change owes stays reserved for this process's own outbox.
    A process without one (`helpline cmd`) passes zero, so a server's sweeper takes the
    deliveries at once.
    """

    def __init__(self, *, mirror_to_staff: bool, lease: timedelta = LEASE) -> None:
        self.mirror_to_staff = mirror_to_staff
        self.lease = lease
        self.reports = ReportStore()
        self.faq = FaqStore()

    # Agents ------------------------------------------------------------------------------

    async def agent_for(self, identity: StaffIdentity) -> AgentView:
        desk_user = int(identity.desk_user_id)
        role = Role.ADMIN if identity.admin else None
        row = await models.Agent.get_or_none(telegram_user_id=desk_user)
        if row is None:
            try:
                row = await models.Agent.create(
                    telegram_user_id=desk_user,
                    display_name=identity.display_name[:200],
                    username=await self._free_username(identity.username),
                    role=role or Role.AGENT,
                )
            except IntegrityError:  # the same person's first two messages, at once
                row = await models.Agent.get(telegram_user_id=desk_user)
            return agent_view(row)
        changes: dict[str, object] = {}
        if row.display_name != identity.display_name[:200]:
            changes["display_name"] = identity.display_name[:200]
        if identity.username and row.username != identity.username:
            changes["username"] = await self._free_username(identity.username)
        if role is not None and row.role is not role:
            changes["role"] = role
        elif role is None and row.role is Role.ADMIN:
            changes["role"] = Role.AGENT  # removed from the admin list in config
        if changes:
            await models.Agent.filter(id=row.id).update(**changes)
            row = await models.Agent.get(id=row.id)
        return agent_view(row)

    async def _free_username(self, username: str | None) -> str | None:
        if not username:
            return None
        taken = await models.Agent.filter(username=username).exists()
        return None if taken else username

    async def find_agent(self, reference: str) -> AgentView | None:
        reference = reference.strip()
        row: models.Agent | None
        if reference.startswith("@"):
            row = await models.Agent.get_or_none(username__iexact=reference[1:])
        elif reference.isdigit():
            row = await models.Agent.get_or_none(id=int(reference))
            if row is None:
                row = await models.Agent.get_or_none(telegram_user_id=int(reference))
        else:
            row = await models.Agent.get_or_none(username__iexact=reference)
        return None if row is None else agent_view(row)

    async def agents(self) -> list[AgentView]:
        rows = await models.Agent.exclude(username=COMMAND_LINE_USERNAME).order_by("display_name")
        return [agent_view(row) for row in rows]

    async def command_line_agent(self) -> AgentView:
        row = await models.Agent.get_or_none(username=COMMAND_LINE_USERNAME)
        if row is None:
            try:
                row = await models.Agent.create(
                    username=COMMAND_LINE_USERNAME,
                    display_name="Command line",
                    role=Role.ADMIN,
                    online=False,
                )
            except IntegrityError:  # two commands started at once
                row = await models.Agent.get(username=COMMAND_LINE_USERNAME)
        return agent_view(row)

    async def set_online(self, agent_id: int, online: bool) -> None:
        await models.Agent.filter(id=agent_id).update(online=online)

    # Where things go ---------------------------------------------------------------------

    async def customer_for_topic(self, topic_id: str) -> int | None:
        row = await models.StaffTopic.get_or_none(thread_id=topic_id)
        return None if row is None else int(row.customer_id)  # type: ignore[attr-defined]

    async def latest_conversation(self, customer_id: int) -> int | None:
        row = await sql.fetch_one(
            "SELECT m.conversation_id FROM message m JOIN conversation c "
            "ON c.id = m.conversation_id WHERE c.customer_id = ? AND m.direction = 'incoming' "
            "ORDER BY m.id DESC LIMIT 1",
            customer_id,
        )
        if row is not None:
            return int(row["conversation_id"])
        conversation = (
            await models.Conversation.filter(customer_id=customer_id).order_by("-id").first()
        )
        return None if conversation is None else conversation.id

    async def ticket(self, number: int) -> TicketView | None:
        row = await models.Ticket.get_or_none(id=number)
        return None if row is None else ticket_view(row)

    async def active_ticket(self, conversation_id: int) -> TicketView | None:
        row = (
            await models.Ticket.filter(conversation_id=conversation_id, status__in=ACTIVE_STATUSES)
            .order_by("-id")
            .first()
        )
        return None if row is None else ticket_view(row)

    async def latest_ticket(self, conversation_id: int) -> TicketView | None:
        row = await models.Ticket.filter(conversation_id=conversation_id).order_by("-id").first()
        return None if row is None else ticket_view(row)

    # Replies and changes -----------------------------------------------------------------

    async def agent_reply(
        self,
        conversation_id: int,
        *,
        agent: AgentView,
        reply: OutboundReply,
        source_message_id: str | None,
        mirror: bool,
        lease_owner: str,
        original: str | None = None,
        usage: AIUsage | None = None,
    ) -> ChangeResult | None:
        key = source_message_id or f"a{uuid.uuid4().hex}"
        async with in_transaction():
            conversation = await models.Conversation.get(id=conversation_id).select_related(
                "identity"
            )
            if await models.Message.filter(
                channel=conversation.identity.channel, source_message_id=key
            ).exists():
                return None
            ticket, created = await open_or_raise_ticket(
                conversation,
                TicketRequest(reason="an agent wrote to the customer"),
                subject=reply.text[:200],
            )
            writer = _writer(conversation, ticket.id, lease_owner, self.lease)
            current = writer.now
            staff = self.mirror_to_staff
            if created:
                writer.add(
                    _activity(
                        f"h.{key}",
                        "an agent wrote to the customer",
                        StaffEvent.HANDOFF,
                        to_staff=staff,
                    )
                )
            if ticket.assignee_id is None:  # type: ignore[attr-defined]
                ticket.assignee_id = agent.id
                await record_event(ticket.id, "assigned", actor_id=agent.id, assignee=agent.id)
                writer.add(
                    _activity(
                        f"as.{key}",
                        f"Ticket #{ticket.id} taken by {agent.mention}",
                        StaffEvent.ASSIGNED,
                        to_staff=staff,
                    )
                )
            if ticket.first_response_at is None:
                ticket.first_response_at = current
            if ticket.status is TicketStatus.OPEN:
                ticket.status = TicketStatus.IN_PROGRESS
            ticket.automation_level = _with_human(ticket.automation_level)
            await ticket.save()
            await models.Conversation.filter(id=conversation_id).update(
                handoff=HandoffState.WITH_PERSON, rating_ticket_id=None
            )
            writer.add(
                Outgoing(
                    key=key,
                    text=reply.text,
                    sender_kind=SenderKind.AGENT,
                    author_name=agent.display_name,
                    agent_id=agent.id,
                    reply=reply,
                    to_staff=mirror and staff,
                )
            )
            if original is not None or usage is not None:
                writer.statements.append(_translation_note(writer, key, original, usage))
            # Whoever answers in person makes waiting AI drafts moot.
            writer.statements.append(
                (
                    "UPDATE message SET status = 'discarded' "
                    "WHERE conversation_id = ? AND status = 'draft'",
                    (conversation_id,),
                )
            )
            outcome = await sql.run(*writer.statements)
        deliveries = await _deliveries(writer, outcome)
        return ChangeResult(ticket_view(ticket), deliveries)

    async def settle_draft(
        self, question_id: int, *, send: bool, by: AgentView, lease_owner: str
    ) -> DraftOutcome | None:
        return await settle_draft(
            question_id, send=send, by=by, lease_owner=lease_owner, mirror=self.mirror_to_staff
        )

    async def change_ticket(
        self, ticket_id: int, change: TicketChange, *, by: AgentView | None, lease_owner: str
    ) -> ChangeResult:
        async with in_transaction():
            ticket = await models.Ticket.get(id=ticket_id)
            conversation = await models.Conversation.get(id=ticket.conversation_id).select_related(  # type: ignore[attr-defined]
                "identity"
            )
            detail = _apply(ticket, change, now())
            if change.status in DONE_STATUSES:
                ticket.automation_level = await _automation_level(ticket)
            await ticket.save()
            if change.tag is not None:
                detail.update(await _retag(ticket.customer_id, change.tag))  # type: ignore[attr-defined]
            conversation_changes: dict[str, object] = {}
            if change.handoff is not None:
                conversation_changes["handoff"] = change.handoff
            if change.rating_requested:
                conversation_changes["rating_ticket_id"] = ticket.id
            if conversation_changes:
                await models.Conversation.filter(id=conversation.id).update(**conversation_changes)
            if not change.private:
                detail.update(summary=change.summary)
            await record_event(
                ticket.id,
                change.history_kind or change.event.value,
                actor_id=by.id if by else None,
                **detail,
            )
            writer = _writer(conversation, ticket.id, lease_owner, self.lease)
            tag = uuid.uuid4().hex[:12]
            note = _activity(f"e{ticket.id}.{tag}", change.summary, change.event)
            writer.add(
                Outgoing(
                    key=note.key,
                    text=note.text,
                    direction=Direction.ACTIVITY,
                    sender_kind=SenderKind.AGENT if by else SenderKind.SYSTEM,
                    author_name=by.display_name if by else None,
                    agent_id=by.id if by else None,
                    private=change.private,
                    event=change.event,
                    to_customer=False,
                    to_staff=self.mirror_to_staff,
                )
            )
            for index, reply in enumerate(change.customer_replies):
                writer.add(Outgoing.for_reply(f"c{ticket.id}.{tag}.{index}", reply, to_staff=False))
            outcome = await sql.run(*writer.statements)
        return ChangeResult(ticket_view(ticket), await _deliveries(writer, outcome))

    async def set_ai(self, scope: AiScope, *, conversation_id: int | None, enabled: bool) -> None:
        if scope is AiScope.ALL:
            value = "true" if enabled else "false"
            await sql.execute(
                "INSERT INTO system_value (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                AI_SWITCH_KEY,
                value,
            )
            return
        assert conversation_id is not None
        conversation = await models.Conversation.get(id=conversation_id)
        if scope is AiScope.CUSTOMER:
            await models.Customer.filter(id=conversation.customer_id).update(  # type: ignore[attr-defined]
                ai_enabled=enabled
            )
            return
        changes: dict[str, object] = {"ai_enabled": enabled}
        if enabled and conversation.handoff is not HandoffState.BOT:
            changes["handoff"] = HandoffState.BOT  # the bot answers again, the ticket stays open
        await models.Conversation.filter(id=conversation_id).update(**changes)


def _apply(ticket: models.Ticket, change: TicketChange, current: datetime) -> dict[str, object]:
    """Change the ticket's fields and timestamps; returns what changed, for its history."""
    detail: dict[str, object] = {}
    if change.status is not None and change.status is not ticket.status:
        detail.update(old_status=ticket.status, status=change.status)
        ticket.status = change.status
        if change.status in DONE_STATUSES:
            ticket.resolved_at = ticket.resolved_at or current
            if change.status is not TicketStatus.RESOLVED:
                ticket.closed_at = current
        else:
            ticket.resolved_at = None
            ticket.closed_at = None
    if change.priority is not None and change.priority is not ticket.priority:
        detail.update(old_priority=ticket.priority, priority=change.priority)
        ticket.priority = TicketPriority(change.priority)
    if change.changes_assignee:
        detail.update(assignee=change.assignee_id)
        ticket.assignee_id = change.assignee_id
    if change.resolution is not None:
        detail.update(resolution=change.resolution)
        ticket.resolution = change.resolution
    if change.private:
        detail.update(note=change.summary)
    return detail


def _translation_note(
    writer: MessageWriter, key: str, original: str | None, usage: AIUsage | None
) -> sql.Statement:
    return (
        "UPDATE message SET original_text = ?, ai_input_tokens = ?, ai_output_tokens = ?, "
        "ai_cost = ?, ai_model = ? WHERE channel = ? AND source_message_id = ?",
        (
            original,
            usage.input_tokens if usage else None,
            usage.output_tokens if usage else None,
            usage.cost_usd if usage else None,
            usage.model if usage else None,
            writer.address.channel.value,
            key,
        ),
    )


async def _automation_level(ticket: models.Ticket) -> AutomationLevel:
    """How much of a finished ticket the AI did: all of it when no person ever replied."""
    messages = models.Message.filter(ticket_id=ticket.id)
    people = await messages.filter(
        direction=Direction.OUTGOING, sender_kind=SenderKind.AGENT
    ).exists()
    machine = await messages.filter(answered_by="ai").exists()
    if machine and not people:
        return AutomationLevel.AI_ONLY
    if machine:
        return AutomationLevel.AI_ASSISTED
    return ticket.automation_level


async def _retag(customer_id: int, change: TagChange) -> dict[str, object]:
    """Add or remove one tag; the row is locked so concurrent changes all count."""
    customer = await models.Customer.select_for_update().get(id=customer_id)
    tags = [tag for tag in customer.tags or [] if tag != change.tag]
    if change.add:
        tags.append(change.tag)
    await models.Customer.filter(id=customer_id).update(tags=tags)
    return {"tag": change.tag, "action": "added" if change.add else "removed"}


def _with_human(level: AutomationLevel) -> AutomationLevel:
    """A person answered: a ticket the AI worked on becomes AI-assisted, else stays human."""
    return AutomationLevel.AI_ASSISTED if level is AutomationLevel.AI_ONLY else level


def _activity(key: str, text: str, event: StaffEvent, *, to_staff: bool = True) -> Outgoing:
    return Outgoing(
        key=key,
        text=text,
        direction=Direction.ACTIVITY,
        sender_kind=SenderKind.SYSTEM,
        event=event,
        to_customer=False,
        to_staff=to_staff,
    )


def _writer(
    conversation: models.Conversation, ticket_id: int, lease_owner: str, lease: timedelta
) -> MessageWriter:
    identity = conversation.identity
    current = now()
    return MessageWriter(
        conversation_id=conversation.id,
        address=ChannelAddress(identity.channel, identity.external_user_id, identity.chat_id),
        ticket_id=ticket_id,
        language=conversation.language,
        lease_owner=lease_owner,
        now=current,
        lease_until=current + lease,
    )


async def _deliveries(writer: MessageWriter, outcome: list[sql.Rows]) -> Deliveries:
    staff_ids = writer.staff_delivery_ids(outcome)
    return Deliveries(
        customer=tuple(writer.customer_deliveries(outcome)),
        staff=tuple(await load_staff_posts(staff_ids)) if staff_ids else (),
    )
