"""AI drafts waiting for a person: sent as they are, or discarded, in one transaction."""

from __future__ import annotations

import uuid

from tortoise.transactions import in_transaction

from bot.desk import AgentView, DraftOutcome
from bot.types import (
    AutomationLevel,
    ChannelAddress,
    Deliveries,
    Direction,
    HandoffState,
    MessageStatus,
    OutboundReply,
    SenderKind,
    StaffEvent,
    TicketStatus,
)
from storage import models, sql
from storage.inbound import LEASE, now
from storage.staff_posts import load_staff_posts
from storage.tickets import record_event
from storage.views import ticket_view
from storage.writes import MessageWriter, Outgoing, draft_key


async def settle_draft(
    question_id: int, *, send: bool, by: AgentView, lease_owner: str, mirror: bool
) -> DraftOutcome | None:
    async with in_transaction():
        draft = (
            await models.Message.filter(
                source_message_id=draft_key(question_id), status=MessageStatus.DRAFT
            )
            .select_related("conversation__identity", "ticket")
            .first()
        )
        if draft is None:
            return None
        conversation = draft.conversation
        identity = conversation.identity
        ticket = draft.ticket
        current = now()
        writer = MessageWriter(
            conversation_id=conversation.id,
            address=ChannelAddress(identity.channel, identity.external_user_id, identity.chat_id),
            ticket_id=ticket.id if ticket else None,
            language=conversation.language,
            lease_owner=lease_owner,
            now=current,
            lease_until=current + LEASE,
        )
        if send:
            await models.Message.filter(id=draft.id).update(status=MessageStatus.PENDING)
            writer.owe_customer(draft.id, OutboundReply(draft.text))
        else:
            await models.Message.filter(id=draft.id).update(status=MessageStatus.DISCARDED)
        summary = f"AI draft {'sent' if send else 'discarded'} by {by.mention}"
        if send and ticket is not None and TicketStatus(ticket.status).is_active:
            ticket.status = TicketStatus.RESOLVED
            ticket.resolved_at = current
            ticket.first_response_at = ticket.first_response_at or current
            ticket.automation_level = AutomationLevel.AI_ASSISTED
            await ticket.save()
            await models.Conversation.filter(id=conversation.id).update(handoff=HandoffState.BOT)
            summary += f"; #{ticket.id} resolved, the bot answers again"
        if ticket is not None:
            await record_event(
                ticket.id, "draft_sent" if send else "draft_discarded", actor_id=by.id
            )
        writer.add(
            Outgoing(
                key=f"ds{question_id}.{uuid.uuid4().hex[:8]}",
                text=summary,
                direction=Direction.ACTIVITY,
                sender_kind=SenderKind.AGENT,
                author_name=by.display_name,
                agent_id=by.id,
                event=StaffEvent.DRAFT,
                to_customer=False,
                to_staff=mirror,
            )
        )
        outcome = await sql.run(*writer.statements)
    staff = writer.staff_delivery_ids(outcome)
    return DraftOutcome(
        text=draft.text,
        ticket=ticket_view(ticket) if ticket else None,
        deliveries=Deliveries(
            customer=tuple(writer.customer_deliveries(outcome)),
            staff=tuple(await load_staff_posts(staff)) if staff else (),
        ),
    )
