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
import secrets
import unicodedata
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
from bot.language import LanguageDetector
from bot.llm import Translation
from bot.texts import Text, render
from bot.types import (
    SUPPORTED_LANGUAGES,
    Attachment,
    Button,
    ConversationStore,
    FaqEntry,
    FaqMatch,
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
RELATED_SCORE = 0.2
"""Below this confidence a `/faq search` match is unrelated; a word search is shown."""
TAG = re.compile(r"[\w-]{1,32}")
FAQ_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,99}")
FAQ_QUESTION_CHARS = 1000
FAQ_ANSWER_CHARS = 4000
FAQ_ID_WORDS_CHARS = 40
FAQ_ID_ATTEMPTS = 10


@dataclass(frozen=True, slots=True)
class CommandRequest:
    """A staff command to run: who typed it, where, and the text."""

    text: str
    agent: AgentView
    topic_id: str | None
    service: StaffService


CommandRunner = Callable[[CommandRequest], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class FaqAdded:
    faq_id: str
    language: str
    created: bool
    """False: an existing language version was replaced."""
    detected: bool
    """The language was detected from the text, not given."""


@dataclass(frozen=True, slots=True)
class FaqFound:
    entries: tuple[FaqEntry, ...]
    """Stored versions containing the words, when no FAQ index is at hand."""
    matches: tuple[FaqMatch, ...] = ()
    """What the FAQ index ranks highest for the query, as the bot would see it."""
    best: FaqMatch | None = None
    """The entry the bot would answer the query with; None: it would hand it on."""


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
        self.knowledge = knowledge
        """The FAQ index customers are answered from, for `/faq search` (optional)."""
        self.on_faq_changed: Callable[[], Awaitable[object]] | None = None
        """Called after a staff FAQ edit (the server rebuilds its index)."""

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

    # FAQ ---------------------------------------------------------------------------------

    async def faq_add(
        self,
        question: str,
        answer: str,
        *,
        language: str | None,
        faq_id: str | None,
        by: AgentView,
    ) -> FaqAdded:
        """Add an FAQ entry (or one language version of `faq_id`); other entries stay."""
        question, answer = " ".join(question.split()), answer.strip()
        if not question or not answer:
            raise CommandError("An FAQ entry needs a question and an answer.")
        if len(question) > FAQ_QUESTION_CHARS or len(answer) > FAQ_ANSWER_CHARS:
            raise CommandError(
                f"Keep the question under {FAQ_QUESTION_CHARS} and the answer under "
                f"{FAQ_ANSWER_CHARS} characters."
            )
        if language is not None and language not in SUPPORTED_LANGUAGES:
            raise CommandError(f"The FAQ can be in {', '.join(SUPPORTED_LANGUAGES)}.")
        detected = language is None
        language = language or self._detect(f"{question}\n{answer}")
        faq = self._store.faq
        if faq_id is not None:
            if not FAQ_ID.fullmatch(faq_id):
                raise CommandError("An FAQ id is letters, digits, -, _ or . (up to 100).")
            entry = FaqEntry(faq_id=faq_id, language=language, question=question, answer=answer)
            created = await faq.put_version(entry, source="staff")
        else:
            for candidate in _faq_ids(question):
                entry = FaqEntry(candidate, language, question, answer)
                if await faq.create_version(entry, source="staff"):
                    faq_id, created = candidate, True
                    break
            else:
                raise CommandError("Could not find a free FAQ id; give one: [lang] [id].")
        log.info("FAQ entry %s (%s) saved by agent %d", faq_id, language, by.id)
        await self._faq_changed()
        return FaqAdded(faq_id, language, created, detected)

    async def faq_remove(self, faq_id: str, *, by: AgentView) -> int:
        removed = await self._store.faq.remove(faq_id)
        if not removed:
            raise CommandError(f"There is no FAQ entry {faq_id}; /faq search finds entries.")
        log.info("FAQ entry %s removed by agent %d (%d versions)", faq_id, by.id, removed)
        await self._faq_changed()
        return removed

    async def _faq_changed(self) -> None:
        """Rebuild this process's FAQ index now (other processes notice within seconds)."""
        if self.on_faq_changed is not None:
            try:
                await self.on_faq_changed()
            except Exception:
                log.exception("FAQ index refresh failed; it is retried on the next poll")

    async def faq_search(self, query: str, *, limit: int) -> FaqFound:
        if self.knowledge is None:
            return FaqFound(tuple(await self._store.faq.find(query, limit=limit)))
        matches = self.knowledge.search(query, None, limit=limit)
        if not matches or matches[0].score < RELATED_SCORE:
            # Nothing the matcher finds related: show entries containing the words instead.
            return FaqFound(tuple(await self._store.faq.find(query, limit=limit)))
        return FaqFound((), tuple(matches), self.knowledge.best_match(query, None))

    def _detect(self, text: str) -> str:
        if self._detector is None:
            self._detector = LanguageDetector(SUPPORTED_LANGUAGES, SUPPORTED_LANGUAGES[0])
        return self._detector.detect(text)

    async def _change(
        self, ticket: TicketView, change: TicketChange, by: AgentView | None
    ) -> TicketView:
        result = await self._store.change_ticket(ticket.id, change, by=by, lease_owner=self._owner)
        self._outbox.send_now(result.deliveries)
        return result.ticket

    async def _language(self, ticket: TicketView) -> str | None:
        conversation = await self._conversations.load_conversation(ticket.conversation_id)
        return conversation.language or conversation.customer.language


def _faq_ids(question: str) -> list[str]:
    """Ids to try for a new entry: its question's first words, then numbered, then random."""
    plain = unicodedata.normalize("NFKD", question).encode("ascii", "ignore").decode().lower()
    words: list[str] = []
    for word in re.findall(r"[a-z0-9]+", plain):
        if len("-".join([*words, word])) > FAQ_ID_WORDS_CHARS:
            break
        words.append(word)
    base = "-".join(words) or "faq"
    numbered = [f"{base}-{n}" for n in range(2, FAQ_ID_ATTEMPTS)]
    return [base, *numbered, *(f"{base}-{secrets.token_hex(3)}" for _ in range(FAQ_ID_ATTEMPTS))]


def _require_active(ticket: TicketView) -> None:
    if not ticket.status.is_active:
        raise CommandError(f"#{ticket.number} is already {ticket.status.value}.")
