"""The composition root: builds the aiohttp app from settings and wires every part together.

Everything is constructed up front (routes cannot change once the app runs); connections
open in the app's cleanup context, and background work drains there on shutdown.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from aiohttp import web

from admin_commands import REGISTRY
from bot.ai import AIResponder, build_tools
from bot.config import Settings
from bot.conversation import Services
from bot.language import LanguageDetector
from bot.llm import PromptBuilder, open_provider
from bot.manager import ConversationManager, Limits
from bot.outbox import Outbox
from bot.process import settle_heap
from bot.seed import load_sample_faq
from bot.staffing import StaffService
from bot.tasks import TaskTracker
from bot.types import ChannelAdapter, ChannelAddress, ChannelKind, MessageView
from channels.files import FileLinks, FileRoute
from channels.web_visitors import VisitorTokens
from channels.web_widget import WebWidgetAdapter
from knowledge.embeddings import load_local_embedder
from knowledge.live import LiveDocuments, LiveFaq
from knowledge.passages import PassageText
from storage.checkpoint import WalCheckpointer
from storage.conversations import ConversationStore
from storage.database import Database
from storage.documents import DocumentStore
from storage.faq import FaqStore
from storage.inbox import claim_once, forget_old_keys
from storage.outbox import DeliveryStore
from storage.shared_values import SharedValues
from storage.staff import StaffStore
from storage.system import shared_secret
from storage.topics import TopicStore
from storage.uploads import UploadedFiles, forget_unclaimed_files, store_upload

if TYPE_CHECKING:  # the channels' SDKs are imported only when the channel is configured
    from channels.telegram.channel import TelegramChannel, TelegramSettings
    from channels.wechat import WeChatAdapter

log = logging.getLogger(__name__)

FAQ_REFRESH_SECONDS = 5.0
HOUSEKEEPING_SECONDS = 3600.0
WIDGET_SECRET_KEY = "widget_secret"


class Runtime:
    """Every long-lived object of one server process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.database = Database(settings.database_url.get_secret_value())
        telegram = telegram_settings(settings)
        mirror = telegram is not None and telegram.agent_chat_id is not None
        self.conversations = ConversationStore(mirror_to_staff=mirror)
        self.faq_store = FaqStore()
        self.faq = LiveFaq(
            self.faq_store.list_entries,
            self.faq_store.revision,
            min_score=settings.faq_min_score,
            embedder=load_local_embedder(),
            load_vectors=self.faq_store.load_vectors,
        )
        self.document_store = DocumentStore()
        self.documents = LiveDocuments(self.list_passages, self.document_store.revision)
        self.work = TaskTracker()
        self.loops = TaskTracker()
        self.adapters: dict[ChannelKind, ChannelAdapter] = {}
        self.deliveries = DeliveryStore(mirror_to_staff=mirror)
        self.outbox = Outbox(
            self.deliveries,
            self.adapters,
            self.work,
            owner=self.owner,
            poll_seconds=settings.outbox_poll_seconds,
        )
        detector = LanguageDetector(settings.languages, settings.default_language)
        schedule = settings.schedule
        policy = settings.ai_policy
        self.ai = AIResponder(
            builder=PromptBuilder(
                company_name=settings.company_name,
                guidelines=settings.llm_system_prompt,
                history_tokens=settings.llm_history_tokens,
                tools=build_tools(policy),
                max_output_tokens=settings.llm_max_output_tokens,
            ),
            knowledge=self.faq,
            documents=self.documents,
            load_history=self.recent_messages,
            policy=policy,
            hours=schedule,
        )
        self.manager = ConversationManager(
            store=self.conversations,
            outbox=self.outbox,
            services=Services(
                knowledge=self.faq,
                detector=detector,
                company_name=settings.company_name,
                ai=self.ai,
                hours=schedule,
            ),
            tracker=self.work,
            owner=self.owner,
            limits=Limits(
                max_message_chars=settings.max_message_chars,
                staff_language=settings.agent_language if mirror else None,
            ),
        )
        widget_secret = (
            settings.widget_secret.get_secret_value() if settings.widget_secret else None
        )
        self.visitor_tokens = VisitorTokens(widget_secret)
        self.file_links = FileLinks(secret=widget_secret)
        self.widget = WebWidgetAdapter(
            accept=self.manager.accept,
            load_history=self.customer_history,
            tokens=self.visitor_tokens,
            links=self.file_links,
            allowed_origins=settings.widget_origins(()),
            messages_per_minute=settings.widget_messages_per_minute,
            store_file=store_upload,
            max_file_bytes=settings.widget_max_file_mb * 2**20,
        )
        self.file_links.add_source(UploadedFiles())
        self.adapters[ChannelKind.WEB] = self.widget
        self.staff = StaffService(
            store=StaffStore(mirror_to_staff=mirror),
            conversations=self.conversations,
            outbox=self.outbox,
            owner=self.owner,
            tell_customer_on_assign=settings.notify_customer_on_assign,
            staff_language=settings.agent_language,
            ai=self.ai,
            detector=detector,
            knowledge=self.faq,
        )
        self.staff.commands = REGISTRY.run
        self.staff.faq.on_changed = self.faq.refresh
        self.telegram: TelegramChannel | None = None
        if telegram is not None:
            from channels.telegram.channel import TelegramChannel

            self.telegram = TelegramChannel(
                telegram,
                accept=self.manager.accept,
                accept_edit=self.manager.accept_edit,
                handle_staff=self.staff.handle,
                claim_once=claim_once,
                topics=TopicStore(),
                claimant=self.owner,
            )
            self.adapters[ChannelKind.TELEGRAM] = self.telegram
            self.outbox.desk = self.telegram.desk
            self.file_links.add_source(self.telegram)
            if self.telegram.desk is not None:
                self.telegram.desk.files = self.file_links
        self.wechat = build_wechat(settings, self.manager, self.owner)
        if self.wechat is not None:
            self.adapters[ChannelKind.WECHAT] = self.wechat
            self.file_links.add_source(self.wechat)
            if settings.public_url:
                self.wechat.link_file = functools.partial(self.file_links.url, settings.public_url)
        self.ready = False

    async def list_passages(self) -> list[PassageText]:
        return [
            PassageText(p.document, p.title, p.heading, p.text, p.language, p.position)
            for p in await self.document_store.list_passages()
        ]

    async def customer_history(self, address: ChannelAddress) -> list[MessageView]:
        conversation_id = await self.conversations.find_conversation(address)
        if conversation_id is None:
            return []
        return await self.conversations.history(
            conversation_id, limit=self.settings.history_turns * 2, attachments=True
        )

    async def recent_messages(self, conversation_id: int, limit: int) -> list[MessageView]:
        return await self.conversations.history(conversation_id, limit=limit)

    async def start(self) -> None:
        await self.database.open()
        self.ai.provider = await open_provider(self.settings.llm)
        if self.settings.sample_faq:
            await load_sample_faq(self.faq_store)
        await self.faq.refresh()
        await self.documents.refresh()
        if self.settings.widget_secret is None:
            secret = await shared_secret(WIDGET_SECRET_KEY)
            self.visitor_tokens.use_secret(secret)
            self.file_links.use_secret(secret)
        self.loops.spawn(self.outbox.sweep_forever(), name="outbox-sweep")
        self.loops.spawn(self.manager.recover_forever(), name="recovery")
        self.loops.spawn(self.faq.refresh_forever(FAQ_REFRESH_SECONDS), name="faq-refresh")
        self.loops.spawn(self.documents.refresh_forever(FAQ_REFRESH_SECONDS), name="kb-refresh")
        self.loops.spawn(_housekeeping_forever(), name="housekeeping")
        checkpointer = WalCheckpointer.for_default_connection()
        if checkpointer is not None:
            self.loops.spawn(checkpointer.run_forever(), name="wal-checkpoints")
        if self.wechat is not None:
            self.loops.spawn(self.wechat.check(), name="wechat-check")
        if self.telegram is not None:
            self.loops.spawn(self.telegram.check_desk(), name="telegram-desk-check")
            await self.telegram.start()
            if self.settings.telegram_mode == "polling":
                self.loops.spawn(self.telegram.poll_forever(), name="telegram-polling")
        settle_heap()
        self.ready = True
        log.info(
            "Helpline ready (database %s, %d FAQ entries)",
            self.settings.safe_database_url,
            self.faq.size,
        )

    async def stop(self) -> None:
        self.ready = False
        await self.loops.cancel_all(expected=True)
        await self.work.drain(self.settings.shutdown_timeout)
        try:
            await self.conversations.release(lease_owner=self.owner)
            await self.deliveries.release(lease_owner=self.owner)
        except Exception:
            log.exception("could not release leases; they expire on their own")
        if self.telegram is not None:
            await self.telegram.close()
        if self.ai.provider is not None:
            await self.ai.provider.close()
        await self.database.close()


def telegram_settings(settings: Settings) -> TelegramSettings | None:
    if settings.telegram_token is None:
        return None
    from channels.telegram.channel import TelegramSettings
    from channels.telegram.pacing import Limits as TelegramLimits

    secret = settings.telegram_webhook_secret
    return TelegramSettings(
        token=settings.telegram_token.get_secret_value(),
        mode=settings.telegram_mode,
        webhook_secret=secret.get_secret_value() if secret else None,
        api_url=settings.telegram_api_url,
        api_is_local=settings.telegram_api_local,
        agent_chat_id=settings.telegram_agent_chat_id,
        admin_ids=frozenset(int(value) for value in settings.telegram_admin_ids),
        limits=TelegramLimits(
            chat_per_second=settings.telegram_chat_messages_per_second,
            bot_per_second=settings.telegram_messages_per_second,
            group_per_minute=settings.telegram_group_messages_per_minute,
            topics_per_minute=settings.telegram_topics_per_minute,
        ),
        public_url=settings.public_url,
    )


async def _housekeeping_forever() -> None:
    while True:
        await asyncio.sleep(HOUSEKEEPING_SECONDS)
        try:
            await forget_old_keys()
            await forget_unclaimed_files()
        except Exception:
            log.exception("housekeeping failed; trying again later")


def build_wechat(
    settings: Settings, manager: ConversationManager, owner: str
) -> WeChatAdapter | None:
    """The WeChat channel when it is configured (settings checked it is complete)."""
    if not settings.wechat_configured:
        return None
    from channels.wechat import WeChatAdapter, WeChatConfig

    assert settings.wechat_token and settings.wechat_app_id and settings.wechat_app_secret
    config = WeChatConfig(
        token=settings.wechat_token.get_secret_value(),
        app_id=settings.wechat_app_id,
        app_secret=settings.wechat_app_secret.get_secret_value(),
        aes_key=settings.wechat_aes_key.get_secret_value() if settings.wechat_aes_key else None,
        api_url=settings.wechat_api_url,
        reply_budget=settings.wechat_reply_budget,
        company_name=settings.company_name,
        languages=settings.languages,
        default_language=settings.default_language,
        max_message_chars=settings.max_message_chars,
    )
    return WeChatAdapter(
        config,
        accept=manager.accept,
        accept_activity=manager.accept_activity,
        token_store=SharedValues(),
        owner=owner,
    )


RUNTIME = web.AppKey("runtime", Runtime)


async def _lifetime(app: web.Application) -> AsyncIterator[None]:
    runtime = app[RUNTIME]
    await runtime.start()
    yield
    await runtime.stop()


async def healthz(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    if runtime.ready and await runtime.database.ping():
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "unavailable"}, status=503)


def create_app(settings: Settings) -> web.Application:
    app = web.Application(client_max_size=1024**2)
    runtime = Runtime(settings)
    app[RUNTIME] = runtime
    app.router.add_get("/healthz", healthz)
    runtime.widget.mount(app)
    FileRoute(runtime.file_links, runtime.conversations.shared_attachment).mount(app)
    if runtime.telegram is not None:
        runtime.telegram.mount(app)
    if runtime.wechat is not None:
        runtime.wechat.mount(app)  # before _lifetime: its API client outlives the outbox
    app.cleanup_ctx.append(_lifetime)
    return app
