"""AI replies: provider-neutral requests and replies, prompt building, providers.

Importing this package does not import any vendor SDK; `open_provider` loads the one
configured. Typical use:

    provider = await open_provider(settings.llm)          # None: FAQ and templates only
    builder = PromptBuilder(company_name=..., history_tokens=settings.llm.history_tokens)
    request = builder.build(question=message, language="de", history=..., faq=...)
    reply = await provider.reply(request, search_knowledge=search)
"""

from bot.llm.factory import build_provider, open_provider
from bot.llm.fallback import FallbackProvider
from bot.llm.pricing import ModelPrice, PriceBook
from bot.llm.prompt import Passage, PromptBuilder, language_name
from bot.llm.settings import LLMSettings, ProviderConfig
from bot.llm.tools import support_tools
from bot.llm.types import (
    ChatTurn,
    LLMProvider,
    LLMReply,
    LLMRequest,
    SearchKnowledge,
    Speaker,
    ToolCall,
    ToolName,
    ToolSpec,
    Translation,
    Usage,
)

__all__ = [
    "ChatTurn",
    "FallbackProvider",
    "LLMProvider",
    "LLMReply",
    "LLMRequest",
    "LLMSettings",
    "ModelPrice",
    "Passage",
    "PriceBook",
    "PromptBuilder",
    "ProviderConfig",
    "SearchKnowledge",
    "Speaker",
    "ToolCall",
    "ToolName",
    "ToolSpec",
    "Translation",
    "Usage",
    "build_provider",
    "language_name",
    "open_provider",
    "support_tools",
]
