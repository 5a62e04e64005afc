"""What staff do: reply to customers from their topic, and act on tickets.

One code path for every surface: a slash command in the agents' chat, a button under a
handoff, `helpline cmd` on the command line. Each action is one store transaction (the
ticket, its history, the note staff see in the topic, what the customer is told) and then
goes out through the outbox. Changing a customer's tags is recorded in the history of the
ticket it was done from, like any other change made there.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.ai import AIResponder, usage_of
from bot.desk import (
    COMMAND_LINE_USERNAME,
    AgentView,
    AiScope,
    DeliverySink,
    DeskReply,
    DraftOutcome,
    ReportStore,
    StaffMessage,
    StaffStore,
    TagChange,
    TicketChange,
)
from bot.errors import CommandError
from bot.faq_desk import FaqDesk
from bot.language import LanguageDetector
from bot.llm import Translation
from bot.texts import Text, render
from bot.types import (
    Attachment,
    Button,
    ConversationStore,
    HandoffState,
    KnowledgeSearch,
    OutboundReply,
    SenderKind,
    StaffEvent,
    TicketPriority,
    TicketStatus,
    TicketView,
)

log = logging.getLogger(__name__)

COMMAND_PREFIX = "/"
RATING_SCALE = range(1, 6)
TAG = re.compile(r"[\w-]{1,32}")


@dataclass(frozen=True, slots=True)
class CommandRequest:
    """A staff command to run: who typed it, where, and the text."""

    text: str
    agent: AgentView
    topic_id: str | None
    service: StaffService


CommandRunner = Callable[[CommandRequest], Awaitable[str]]


def rating_buttons(ticket_id: int) -> tuple[Button, ...]:
    return tuple(Button(str(score), f"rate:{ticket_id}:{score}") for score in RATING_SCALE)


class StaffService:
    def __init__(
        self,
        *,
        store: StaffStore,
        conversations: ConversationStore,
        outbox: DeliverySink,
        owner: str,
        tell_customer_on_assign: bool,
        staff_language: str = "en",
        ai: AIResponder | None = None,
        detector: LanguageDetector | None = None,
        knowledge: KnowledgeSearch | None = None,
    ) -> None:
        self._store = store
        self._conversations = conversations
        self._outbox = outbox
        self._owner = owner
        self._tell_on_assign = tell_customer_on_assign
        self._staff_language = staff_language
        self._ai = ai
        self._detector = detector
        self.commands: CommandRunner | None = None
        self.faq = FaqDesk(store.faq, knowledge=knowledge, detector=detector)

    @property
    def store(self) -> StaffStore:
        return self._store

    @property
    def reports(self) -> ReportStore:
        return self._store.reports

    async def handle(self, message: StaffMessage, reply: DeskReply) -> None:
        """A staff member wrote in the agents' chat (or pressed a button there)."""
        agent = await self._store.agent_for(message.sender)
        if message.text.lstrip().startswith(COMMAND_PREFIX):
            if self.commands is None:
                await reply("Staff commands are not available.")
                return
            request = CommandRequest(message.text.strip(), agent, message.topic_id, self)
            await reply(await self.commands(request))
            return
        if message.topic_id is None:
            return  # chatter in the general chat is for people, not for customers
        customer_id = await self._store.customer_for_topic(message.topic_id)
        if customer_id is None:
            return  # a topic Helpline did not open
        conversation_id = await self._store.latest_conversation(customer_id)
        if conversation_id is None:
            return
        await self.reply_to_customer(
            conversation_id,
            agent,
            message.text,
            attachments=message.attachments,
            source_message_id=message.source_message_id,
            mirror=False,
        )

    async def reply_to_customer(
        self,
        conversation_id: int,
        agent: AgentView,
        text: str,
        *,
        attachments: tuple[Attachment, ...] = (),
        source_message_id: str | None = None,
        mirror: bool = True,
    ) -> TicketView | None:
        """An agent's answer: stored, owed to the customer (in their language), and the
        ticket taken if nobody owns it."""
        translated = await self._in_customer_language(conversation_id, text)
        reply = OutboundReply(
            translated.text if translated else text,
            sender_kind=SenderKind.AGENT,
            author_name=agent.display_name,
            attachments=attachments,
        )
        result = await self._store.agent_reply(
            conversation_id,
            agent=agent,
            reply=reply,
            source_message_id=source_message_id,
            mirror=mirror,
            lease_owner=self._owner,
            original=text if translated else None,
            usage=usage_of(translated) if translated else None,
        )
        if result is None:
            return None
        self._outbox.send_now(result.deliveries)
        return result.ticket

    async def _in_customer_language(self, conversation_id: int, text: str) -> Translation | None:
        """The agent's words translated when the customer reads another language."""
        if self._ai is None or self._ai.provider is None or not text.strip():
            return None
        conversation = await self._conversations.load_conversation(conversation_id)
        target = conversation.language or conversation.customer.language
        if target is None or target == self._staff_language:
            return None
        if self._detector is not None and self._detector.detect(text, previous=None) == target:
            return None  # the agent wrote in the customer's language already
        return await self._ai.translate(text, target)

    # Drafts ------------------------------------------------------------------------------

    async def settle_draft(self, question_id: int, *, send: bool, by: AgentView) -> DraftOutcome:
        """Send an AI draft as it is, or drop it; the outcome says what it was."""
        outcome = await self._store.settle_draft(
            question_id, send=send, by=by, lease_owner=self._owner
        )
        if outcome is None:
            raise CommandError(f"No AI draft {question_id} is waiting (sent or discarded?).")
        self._outbox.send_now(outcome.deliveries)
        return outcome

    # Tickets -----------------------------------------------------------------------------

    async def ticket(self, number: int | None, topic_id: str | None) -> TicketView:
        """The ticket a command means: `#N`, else the topic's current (or latest) ticket."""
        if number is not None:
            found = await self._store.ticket(number)
            if found is None:
                raise CommandError(f"There is no ticket #{number}.")
            return found
        if topic_id is None:
            raise CommandError("Name the ticket (#N) or use the command in its topic.")
        customer_id = await self._store.customer_for_topic(topic_id)
        conversation_id = (
            await self._store.latest_conversation(customer_id) if customer_id else None
        )
        if conversation_id is None:
            raise CommandError("This topic belongs to no customer; name the ticket (#N).")
        found = await self._store.active_ticket(conversation_id)
        found = found or await self._store.latest_ticket(conversation_id)
        if found is None:
            raise CommandError("This customer has no ticket yet.")
        return found

    async def assign(self, ticket: TicketView, agent: AgentView, *, by: AgentView) -> TicketView:
        _require_active(ticket)
        if agent.username == COMMAND_LINE_USERNAME:
            raise CommandError("The command line cannot take tickets; name an agent: @username.")
        replies: tuple[OutboundReply, ...] = ()
        if self._tell_on_assign and ticket.assignee_id != agent.id:
            language = await self._language(ticket)
            replies = (
                OutboundReply(render(Text.AGENT_ASSIGNED, language, agent=agent.display_name)),
            )
        who = "themselves" if agent.id == by.id else agent.mention
        return await self._change(
            ticket,
            TicketChange(
                event=StaffEvent.ASSIGNED,
                summary=f"#{ticket.number} assigned to {who} by {by.mention}",
                assignee_id=agent.id,
                status=TicketStatus.IN_PROGRESS if ticket.status is TicketStatus.OPEN else None,
                handoff=HandoffState.WITH_PERSON,
                customer_replies=replies,
            ),
            by,
        )

    async def unassign(self, ticket: TicketView, *, by: AgentView) -> TicketView:
        _require_active(ticket)
        if ticket.assignee_id is None:
            raise CommandError(f"#{ticket.number} has no assignee.")
        return await self._change(
            ticket,
            TicketChange(
                event=StaffEvent.ASSIGNED,
                summary=f"#{ticket.number} unassigned by {by.mention}; waiting for an agent",
                assignee_id=None,
                status=TicketStatus.OPEN,
                handoff=HandoffState.WAITING,
            ),
            by,
        )

    async def close(
        self, ticket: TicketView, *, resolution: str | None, by: AgentView | None
    ) -> TicketView:
        """Close the ticket, give the conversation back to the bot, ask for a rating."""
        _require_active(ticket)
        language = await self._language(ticket)
        replies = (
            OutboundReply(render(Text.TICKET_CLOSED, language)),
            OutboundReply(
                render(Text.RATING_QUESTION, language), buttons=rating_buttons(ticket.id)
            ),
        )
        who = f" by {by.mention}" if by else ""
        summary = f"#{ticket.number} closed{who}" + (f": {resolution}" if resolution else "")
        return await self._change(
            ticket,
            TicketChange(
                event=StaffEvent.CLOSED,
                summary=summary,
                status=TicketStatus.CLOSED,
                resolution=resolution,
                handoff=HandoffState.BOT,
                customer_replies=replies,
                rating_requested=True,
            ),
            by,
        )

    async def cancel(self, ticket: TicketView, *, by: AgentView) -> TicketView:
        _require_active(ticket)
        return await self._change(
            ticket,
            TicketChange(
                event=StaffEvent.CLOSED,
                summary=f"#{ticket.number} cancelled by {by.mention}",
                status=TicketStatus.CANCELLED,
                handoff=HandoffState.BOT,
            ),
            by,
        )

    async def reopen(self, ticket: TicketView, *, by: AgentView) -> TicketView:
        if ticket.status.is_active:
            raise CommandError(f"#{ticket.number} is still {ticket.status.value}.")
        current = await self._store.active_ticket(ticket.conversation_id)
        if current is not None:
            raise CommandError(
                f"This customer already has an active ticket, #{current.number}; use that one."
            )
        assigned = ticket.assignee_id is not None
        return await self._change(
            ticket,
            TicketChange(
                event=StaffEvent.REOPENED,
                summary=f"#{ticket.number} reopened by {by.mention}",
                status=TicketStatus.IN_PROGRESS if assigned else TicketStatus.OPEN,
                handoff=HandoffState.WITH_PERSON if assigned else HandoffState.WAITING,
            ),
            by,
        )

    async def set_status(
        self, ticket: TicketView, status: TicketStatus, *, by: AgentView
    ) -> TicketView:
        if status is TicketStatus.CLOSED:
            return await self.close(ticket, resolution=None, by=by)
        if status is TicketStatus.CANCELLED:
            return await self.cancel(ticket, by=by)
        if status.is_active and not ticket.status.is_active:
            ticket = await self.reopen(ticket, by=by)
        if status is ticket.status:
            raise CommandError(f"#{ticket.number} is already {status.value}.")
        handoff = HandoffState.BOT if status is TicketStatus.RESOLVED else None
        return await self._change(
            ticket,
            TicketChange(
                event=StaffEvent.STATUS,
                summary=f"#{ticket.number} is now {status.value} ({by.mention})",
                status=status,
                handoff=handoff,
            ),
            by,
        )

    async def set_priority(
        self, ticket: TicketView, priority: TicketPriority, *, by: AgentView
    ) -> TicketView:
        if priority is ticket.priority:
            raise CommandError(f"#{ticket.number} already has {priority.value} priority.")
        return await self._change(
            ticket,
            TicketChange(
                event=StaffEvent.PRIORITY,
                summary=f"#{ticket.number} priority {ticket.priority.value} → {priority.value} "
                f"({by.mention})",
                priority=priority,
            ),
            by,
        )

    async def note(self, ticket: TicketView, text: str, *, by: AgentView) -> TicketView:
        if not text.strip():
            raise CommandError("A note needs some text.")
        return await self._change(
            ticket,
            TicketChange(event=StaffEvent.NOTE, summary=text.strip(), private=True),
            by,
        )

    async def set_ai(
        self, scope: AiScope, enabled: bool, *, ticket: TicketView | None, by: AgentView
    ) -> str:
        """Switch automatic answers on or off; returns the line staff are shown."""
        state = "on" if enabled else "off"
        if scope is AiScope.ALL:
            await self._store.set_ai(scope, conversation_id=None, enabled=enabled)
            log.info("AI replies switched %s for the whole service by agent %d", state, by.id)
            return f"AI replies are {state} for everyone."
        if ticket is None:
            raise CommandError("Name the ticket (#N) or use the command in its topic.")
        await self._store.set_ai(scope, conversation_id=ticket.conversation_id, enabled=enabled)
        what = "this customer" if scope is AiScope.CUSTOMER else "this conversation"
        summary = f"AI replies {state} for {what} ({by.mention})"
        await self._change(ticket, TicketChange(event=StaffEvent.AI, summary=summary), by)
        return summary

    async def tag(self, ticket: TicketView, tag: str, *, add: bool, by: AgentView) -> str:
        """Add or remove a tag on the ticket's customer; returns the tag as stored."""
        name = tag.strip().lstrip("#").lower()
        if not TAG.fullmatch(name):
            raise CommandError("A tag is one word of up to 32 letters, digits, - or _.")
        conversation = await self._conversations.load_conversation(ticket.conversation_id)
        if add and name in conversation.customer.tags:
            raise CommandError(f"The customer already has the tag {name}.")
        if not add and name not in conversation.customer.tags:
            raise CommandError(f"The customer has no tag {name}.")
        action = "added to" if add else "removed from"
        await self._change(
            ticket,
            TicketChange(
                event=StaffEvent.TAGGED,
                summary=f"Tag {name} {action} the customer by {by.mention}",
                tag=TagChange(name, add),
                history_kind="tagged",
            ),
            by,
        )
        return name

    # Agents ------------------------------------------------------------------------------

    async def set_online(self, agent: AgentView, online: bool) -> None:
        """Away agents stay listed and keep their tickets; `/agents` shows who is away."""
        await self._store.set_online(agent.id, online)
        log.info("agent %d is now %s", agent.id, "online" if online else "away")

    async def _change(
        self, ticket: TicketView, change: TicketChange, by: AgentView | None
    ) -> TicketView:
        result = await self._store.change_ticket(ticket.id, change, by=by, lease_owner=self._owner)
        self._outbox.send_now(result.deliveries)
        return result.ticket

    async def _language(self, ticket: TicketView) -> str | None:
        conversation = await self._conversations.load_conversation(ticket.conversation_id)
        return conversation.language or conversation.customer.language


def _require_active(ticket: TicketView) -> None:
    if not ticket.status.is_active:
        raise CommandError(f"#{ticket.number} is already {ticket.status.value}.")
