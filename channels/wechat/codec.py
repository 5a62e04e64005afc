"""WeChat's webhook wire format: signatures, safe-mode crypto, XML in and out.

wechatpy's pure parts do the work (signing, `WeChatCrypto`, `parse_message`, replies); this
module adds constant-time signature checks, a body size limit, and turns every way a body
can be wrong into `WebhookRejected` with a status and a reason that is safe to return.
"""

from __future__ import annotations

import hmac
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from xml.parsers.expat import ExpatError

from aiohttp import web
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.messages import BaseMessage
from wechatpy.replies import TextReply
from wechatpy.utils import WeChatSigner

from bot.errors import WebhookRejected

MAX_BODY_BYTES = 256 * 1024
"""Pushes are a few kilobytes; the cap leaves room for a very long text (which is then
stored-or-refused by the core's length rule with a polite reply) and stops anything else."""

_NOT_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_DECLARATIONS = re.compile(r"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Envelope:
    """A verified push: the message, and how its passive reply must be wrapped."""

    message: BaseMessage
    encrypted: bool
    nonce: str


def sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return str(signer.signature)


class WebhookCodec:
    def __init__(self, *, token: str, app_id: str, aes_key: str | None) -> None:
        self._token = token
        self._crypto = WeChatCrypto(token, aes_key, app_id) if aes_key else None

    def verify(self, query: Mapping[str, str]) -> None:
        """The `signature` WeChat adds to every request, plain or safe mode."""
        expected = sign(self._token, query.get("timestamp", ""), query.get("nonce", ""))
        if not hmac.compare_digest(expected, query.get("signature", "")):
            raise WebhookRejected(403, "invalid signature")

    def decode(self, body: bytes, query: Mapping[str, str]) -> Envelope:
        """Decrypt (safe and compatible mode send `encrypt_type=aes`) and parse a push."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise WebhookRejected(400, "the body is not UTF-8") from None
        if _DECLARATIONS.search(text):  # WeChat never sends them; entities only do harm
            raise WebhookRejected(400, "XML declarations (DOCTYPE, ENTITY) are not accepted")
        encrypted = query.get("encrypt_type", "raw").lower() == "aes"
        if encrypted:
            text = self._decrypt(text, query)
        return Envelope(_parse(text), encrypted, query.get("nonce", ""))

    def render_reply(self, envelope: Envelope, text: str) -> bytes:
        """The passive text reply, encrypted when the push was."""
        reply = TextReply(message=envelope.message, content=_cdata_safe(text))
        xml = str(reply.render())
        if envelope.encrypted and self._crypto is not None:
            xml = str(self._crypto.encrypt_message(xml, envelope.nonce))
        return xml.encode("utf-8")

    def _decrypt(self, text: str, query: Mapping[str, str]) -> str:
        if self._crypto is None:
            raise WebhookRejected(400, "encrypted message, but no AES key is configured")
        encrypted = _encrypted_field(text)
        if not encrypted:
            raise WebhookRejected(400, "encrypted message without <Encrypt>")
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        signature = query.get("msg_signature", "")
        if not hmac.compare_digest(sign(self._token, timestamp, nonce, encrypted), signature):
            raise WebhookRejected(403, "invalid msg_signature")
        try:
            plain = self._crypto.decrypt_message(
                {"Encrypt": encrypted}, signature, timestamp, nonce
            )
            return str(plain)
        except InvalidAppIdException:
            raise WebhookRejected(403, "message for another AppID") from None
        except InvalidSignatureException:
            raise WebhookRejected(403, "invalid msg_signature") from None
        except Exception:  # bad base64, padding or length: the payload is broken
            raise WebhookRejected(400, "cannot decrypt the message") from None


async def read_body(request: web.Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, refused (400) beyond `limit` without reading it all."""
    if request.content_length is not None and request.content_length > limit:
        raise WebhookRejected(400, f"body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(limit + 1):
        size += len(chunk)
        if size > limit:
            raise WebhookRejected(400, f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _encrypted_field(text: str) -> str:
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        raise WebhookRejected(400, "not a WeChat XML message") from None
    if root.tag != "xml":
        raise WebhookRejected(400, "not a WeChat XML message")
    return (root.findtext("Encrypt") or "").strip()


def _parse(text: str) -> BaseMessage:
    if not text.strip():
        raise WebhookRejected(400, "empty body")
    try:
        message = parse_message(text)
        openid, _, _ = message.source, message.id, message.time
    except (ExpatError, ValueError, KeyError, TypeError, AttributeError):
        raise WebhookRejected(400, "not a WeChat XML message") from None
    if not isinstance(openid, str) or not openid or len(openid) > 64:
        raise WebhookRejected(400, "message without a valid FromUserName")
    return message


def _cdata_safe(text: str) -> str:
    """wechatpy writes text into CDATA unescaped: split `]]>` and drop non-XML characters."""
    return _NOT_XML_CHARS.sub("", text).replace("]]>", "]]]]><![CDATA[>")
