"""Signed visitor identities for the web widget.

A visitor keeps `<id>.<signature>` in the browser; only a token we signed gives access to
a conversation's history, so guessing another visitor's id is useless.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")


class VisitorTokens:
    def __init__(self, secret: str | None = None) -> None:
        self._key = secret.encode() if secret else b""

    def use_secret(self, secret: str) -> None:
        """Set the signing key once it is known (it may come from the database at start)."""
        self._key = secret.encode()

    def issue(self) -> tuple[str, str]:
        """A new visitor id and its token."""
        visitor_id = secrets.token_urlsafe(18)
        return visitor_id, self._sign(visitor_id)

    def verify(self, token: object) -> str | None:
        """The visitor id inside a valid token, None for anything else."""
        if not isinstance(token, str) or token.count(".") != 1:
            return None
        visitor_id, _ = token.split(".")
        if not _ID.fullmatch(visitor_id):
            return None
        return visitor_id if hmac.compare_digest(self._sign(visitor_id), token) else None

    def _sign(self, visitor_id: str) -> str:
        if not self._key:
            raise RuntimeError("visitor tokens used before a signing secret was set")
        digest = hmac.new(self._key, visitor_id.encode(), hashlib.sha256).digest()
        return f"{visitor_id}.{base64.urlsafe_b64encode(digest[:24]).decode().rstrip('=')}"
