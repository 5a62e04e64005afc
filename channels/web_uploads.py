"""Files a widget visitor sends: what the message frame declares, checked before storing.

The visitor's message frame carries `"file": {"name", "type", "size"}` and the bytes follow
in the next (binary) frame, so the socket stays JSON for everything else. The bytes are
stored by the server (`storage.uploads`), because no channel holds them for us.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.types import Attachment, AttachmentKind, FileContent

NAME_CHARS = 255
_MIME = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}")
_KINDS = (
    ("image/", AttachmentKind.IMAGE),
    ("audio/", AttachmentKind.AUDIO),
    ("video/", AttachmentKind.VIDEO),
)
UNKNOWN_TYPE = "application/octet-stream"
ORIGIN = "web"


class BadFile(ValueError):
    """A file declaration the server refuses; `code` is the error frame's code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class DeclaredFile:
    name: str | None
    mime_type: str
    size: int

    def content(self, data: bytes) -> FileContent:
        """The file with the bytes that followed; they must be as many as declared."""
        if len(data) != self.size:
            raise BadFile("bad_file", f"the file has {len(data)} bytes, not {self.size}")
        return FileContent(data, self.mime_type, self.name)

    def attachment(self, reference: str) -> Attachment:
        kind = next((k for prefix, k in _KINDS if self.mime_type.startswith(prefix)), None)
        return Attachment(
            kind=kind or AttachmentKind.FILE,
            reference=reference,
            name=self.name,
            mime_type=self.mime_type,
            size=self.size,
            meta={"origin": ORIGIN},
        )


def declared_file(value: object, max_bytes: int) -> DeclaredFile:
    """Check a frame's `file` member; the name and type are the browser's, so both are
    tidied rather than trusted (the type only decides how the file is shown)."""
    if not max_bytes:
        raise BadFile("files_off", "this chat does not take files")
    if not isinstance(value, dict):
        raise BadFile("bad_file", "file must be an object with name, type and size")
    size = value.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise BadFile("bad_file", "file.size must be the number of bytes that follow")
    if size > max_bytes:
        raise BadFile("file_too_large", f"files may have at most {max_bytes} bytes")
    mime = value.get("type")
    mime = mime.strip().lower() if isinstance(mime, str) else ""
    return DeclaredFile(
        _tidy_name(value.get("name")), mime if _MIME.fullmatch(mime) else UNKNOWN_TYPE, size
    )


def _tidy_name(name: object) -> str | None:
    """The last path part, without control characters, at most NAME_CHARS long."""
    if not isinstance(name, str):
        return None
    base = re.split(r"[\\/]", name)[-1]
    kept = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    return kept[:NAME_CHARS] or None
