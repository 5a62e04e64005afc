"""WeChat official accounts: webhook in (verified, decrypted, deduplicated), replies out."""

from channels.wechat.adapter import WeChatAdapter
from channels.wechat.config import OFFICIAL_API_URL, WeChatConfig

__all__ = ["OFFICIAL_API_URL", "WeChatAdapter", "WeChatConfig"]
