"""ConversationManager: store what arrives, acknowledge, then work in tracked background tasks.

A message is on disk before `accept` returns, so a crash after the channel's 200 loses
nothing: unprocessed messages are claimed again on start (and periodically, for messages a
crashed sibling process left behind).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from bot.ai import usage_of
from bot.conversation import DEFAULT_PIPELINE, Services, Step, Turn, build_pipeline
from bot.errors import MessageRejected
from bot.outbox import Outbox
from bot.tasks import SerialLanes, TaskTracker
from bot.texts import Text, render
from bot.types import (
    ConversationStore,
    ConversationView,
    Direction,
    InboundKind,
    InboundMessage,
    MessageStatus,
    MessageView,
    OutboundReply,
    RecordedInbound,
    SenderKind,
    StaffEvent,
    TicketPriority,
    TicketRequest,
    TurnResult,
)

log = logging.getLogger(__name__)

START = InboundKind.START

RECOVERY_BATCH = 500
MAX_PROCESSING_ATTEMPTS = 5
FRESH_STATE_SECONDS = 0.25
"""A turn quicker than this (an FAQ answer, not a model's) does not read its state again."""


@dataclass(frozen=True, slots=True)
class Limits:
    max_message_chars: int
    recovery_seconds: float = 30.0
    staff_language: str | None = None
    """The agents' language when a staff desk is configured (for translations)."""


class ConversationManager:
    def __init__(
        self,
        *,
        store: ConversationStore,
        outbox: Outbox,
        services: Services,
        tracker: TaskTracker,
        owner: str,
        limits: Limits,
        steps: tuple[Step, ...] = DEFAULT_PIPELINE,
    ) -> None:
        self._store = store
        self._outbox = outbox
        self._services = services
        self._lanes = SerialLanes(tracker, name="turn")
        self._owner = owner
        self._limits = limits
        self._pipeline = build_pipeline(steps)
        self._in_flight: set[int] = set()

    @property
    def services(self) -> Services:
        return self._services

    def check(self, message: InboundMessage) -> None:
        """Refuse what we will not store; `MessageRejected.code` is stable for clients."""
        if not message.text.strip() and not message.attachments and message.kind is not START:
            raise MessageRejected("empty", "the message has no text")
        if len(message.text) > self._limits.max_message_chars:
            raise MessageRejected(
                "too_long",
                f"the message is longer than {self._limits.max_message_chars} characters",
            )

    async def accept(self, message: InboundMessage) -> RecordedInbound:
        """Store a customer message and schedule its turn; a redelivery is stored once only."""
        self.check(message)
        recorded = await self._store.record_inbound(message, lease_owner=self._owner)
        if not recorded.duplicate:
            view = MessageView(
                id=recorded.message_id,
                conversation_id=recorded.conversation_id,
                direction=Direction.INCOMING,
                sender_kind=SenderKind.CUSTOMER,
                text=message.text,
                private=False,
                status=MessageStatus.RECEIVED,
                created_at=datetime.now(UTC),
                author_name=message.display_name,
                attachments=message.attachments,
                kind=message.kind,
                action=message.action,
            )
            # The state read with the insert is current only if no earlier turn of this
            # conversation is still to run (else it is read again when this turn starts).
            state = None if self._lanes.busy(recorded.conversation_id) else recorded.conversation
            self._schedule(recorded.conversation_id, recorded.message_id, view, state)
        return recorded

    def _schedule(
        self,
        conversation_id: int,
        message_id: int,
        view: MessageView | None,
        state: ConversationView | None = None,
    ) -> None:
        if message_id in self._in_flight:
            return
        self._in_flight.add(message_id)
        self._lanes.submit(conversation_id, lambda: self._process(message_id, view, state))

    async def _process(
        self, message_id: int, view: MessageView | None, state: ConversationView | None
    ) -> None:
        """Run one turn; `view` is the message as accepted (None: read it back, recovery)."""
        started = time.perf_counter()
        try:
            message = view or await self._store.load_message(message_id)
            conversation = state or await self._store.load_conversation(message.conversation_id)
            turn = Turn(message=message, conversation=conversation, services=self._services)
            try:
                await self._pipeline(turn)
                result = await self._for_staff(turn, turn.result())
                outcome = _outcome(result)
            except Exception:
                log.exception(
                    "turn failed (conversation %d, message %d)", conversation.id, message_id
                )
                result = _holding_result(turn)
                outcome = "failed"
            # A quick turn commits on the state it started from: a staff action landing
            # in those milliseconds could as well have landed just after a second read.
            fresh = time.perf_counter() - started < FRESH_STATE_SECONDS
            deliveries = await self._store.commit_turn(
                result, lease_owner=self._owner, current=conversation if fresh else None
            )
        except Exception:
            # Storage itself failed: leave the message unprocessed, the recovery sweep retries.
            log.exception("could not complete the turn for message %d", message_id)
            return
        finally:
            self._in_flight.discard(message_id)
        self._outbox.send_now(deliveries)
        log.info(
            "turn conversation=%d message=%d outcome=%s replies=%d %.1fms",
            result.conversation_id,
            message_id,
            outcome,
            len(result.replies),
            (time.perf_counter() - started) * 1000,
        )

    async def _for_staff(self, turn: Turn, result: TurnResult) -> TurnResult:
        """Staff who follow this conversation read it in their language: add a translation."""
        ai = self._services.ai
        staff_language = self._limits.staff_language
        followed = turn.conversation.open_ticket is not None or result.ticket is not None
        language = result.language
        if (
            ai is None
            or staff_language is None
            or not followed
            or language in (None, staff_language)
            or not turn.message.text.strip()
        ):
            return result
        translated = await ai.translate(turn.message.text, staff_language)
        if translated is None:
            return result
        usage = usage_of(translated)
        return replace(
            result,
            translation=translated.text,
            usage=usage if result.usage is None else result.usage + usage,
        )

    async def accept_edit(self, message: InboundMessage) -> None:
        """A customer edited an earlier message: stored, and shown to staff who follow them."""
        if not message.text.strip() or len(message.text) > self._limits.max_message_chars:
            return
        await self.accept_activity(message, StaffEvent.EDITED)

    async def accept_activity(self, message: InboundMessage, event: StaffEvent) -> None:
        """Something a customer did that needs no answer: kept once, shown to staff."""
        deliveries = await self._store.record_activity(message, event, lease_owner=self._owner)
        self._outbox.send_now(deliveries)

    async def send_as_agent(self, conversation_id: int, text: str, *, agent_name: str) -> None:
        """An agent's reply to the customer, delivered through the outbox like any other."""
        reply = OutboundReply(text, sender_kind=SenderKind.AGENT, author_name=agent_name)
        deliveries = await self._store.queue_replies(
            conversation_id, [reply], lease_owner=self._owner
        )
        self._outbox.send_now(deliveries)

    async def recover(self) -> int:
        """Claim and schedule messages whose turn never finished."""
        claimed = await self._store.claim_unprocessed(lease_owner=self._owner, limit=RECOVERY_BATCH)
        for message_id in claimed:
            if await self._store.processing_attempts(message_id) > MAX_PROCESSING_ATTEMPTS:
                log.error(
                    "message %d failed %d times; giving up", message_id, MAX_PROCESSING_ATTEMPTS
                )
                await self._store.mark_inbound_failed(message_id)
                continue
            message = await self._store.load_message(message_id)
            self._schedule(message.conversation_id, message_id, None)
        if claimed:
            log.info("recovered %d unprocessed messages", len(claimed))
        return len(claimed)

    async def recover_forever(self) -> None:
        while True:
            try:
                await self.recover()
            except Exception:
                log.exception("recovery sweep failed; trying again")
            await asyncio.sleep(self._limits.recovery_seconds)


def _outcome(result: TurnResult) -> str:
    if result.answered_by is not None:
        return result.answered_by.value
    if result.draft is not None:
        return "draft"
    if result.ticket is not None:
        return "handoff"
    return "silent" if not result.replies else "replied"


def _holding_result(turn: Turn) -> TurnResult:
    """A polite holding message and a ticket: the customer never sees what went wrong."""
    return TurnResult(
        inbound_message_id=turn.message.id,
        conversation_id=turn.conversation.id,
        replies=(OutboundReply(render(Text.HOLDING, turn.language)),),
        language=turn.language,
        ticket=TicketRequest(reason="automatic answer failed", priority=TicketPriority.HIGH),
        failed=True,
    )
