"""Helpline's exception tree. Boundaries translate SDK errors into these with `raise ... from`.

HelplineError
├── ConfigError          invalid settings, every problem listed, no secret values
├── ChannelError
│   ├── WebhookRejected  bad signature or unparsable body (401/403/400)
│   └── DeliveryFailed   a send that did not reach the customer
├── MessageRejected      a customer message we refuse (too long, empty); text safe to show
├── LLMError             a provider failed; the message names it, never a key or a prompt
│   ├── LLMTimeout       no answer within the configured time
│   └── LLMUnavailable   refused, overloaded, unreachable (after one retry)
│       └── LLMKeyRejected  the API key was refused (401/403): retrying cannot help
├── KnowledgeError
│   └── ImportFileError  a broken FAQ/document file; names the row at fault
├── StorageError
└── CommandError         text is safe to show staff
"""

from __future__ import annotations


class HelplineError(Exception):
    """Base of every error Helpline raises on purpose."""


class ConfigError(HelplineError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("Invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))


class ChannelError(HelplineError):
    pass


class WebhookRejected(ChannelError):
    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason
        super().__init__(f"{status}: {reason}")


class DeliveryFailed(ChannelError):
    """A send failed. `permanent` means retrying cannot help (blocked bot, deleted chat)."""

    def __init__(
        self,
        channel: str,
        reason: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
    ) -> None:
        self.channel = channel
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        super().__init__(f"{channel}: {reason}")


class MessageRejected(HelplineError):
    """A customer message we will not accept; `code` is stable for clients."""

    def __init__(self, code: str, detail: str) -> None:
        self.code = code
        self.detail = detail
        super().__init__(detail)


class LLMError(HelplineError):
    """A provider call failed; `provider` names which one, `status` is the HTTP status if any."""

    def __init__(
        self, message: str, *, provider: str | None = None, status: int | None = None
    ) -> None:
        self.provider = provider
        self.status = status
        super().__init__(message)


class LLMTimeout(LLMError):
    pass


class LLMUnavailable(LLMError):
    pass


class LLMKeyRejected(LLMUnavailable):
    pass


class KnowledgeError(HelplineError):
    pass


class ImportFileError(KnowledgeError):
    def __init__(self, path: str, problem: str, *, row: int | None = None) -> None:
        self.path = path
        self.row = row
        self.problem = problem
        where = f"{path}, row {row}" if row is not None else path
        super().__init__(f"{where}: {problem}")


class StorageError(HelplineError):
    pass


class CommandError(HelplineError):
    """An expected refusal of a staff command; the text is shown as-is."""
