"""The exception tree: every failure newsbot reports to a user is a NewsbotError."""

from __future__ import annotations


class NewsbotError(Exception):
    """Base of every error newsbot raises on purpose."""


class IndexNotFound(NewsbotError):
    """No index exists where one was expected."""

    def __init__(self, path: str, hint: str | None = None) -> None:
        self.path = path
        super().__init__(
            f"no index at {path}: {hint or f'run `newsbot ingest PATH --index {path}` first'}"
        )


class StoreUnavailable(NewsbotError):
    """The vector store cannot be opened or reached."""

    def __init__(self, target: str, reason: str) -> None:
        self.target = target
        self.reason = reason
        super().__init__(f"cannot use the index at {target}: {reason}")


class ModelMismatch(NewsbotError):
    """A question embedded by one model asked of vectors another model made."""


class UnreadableArticle(NewsbotError):
    """A file could not be turned into an article."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class ModelUnavailable(NewsbotError):
    """The configured chat model cannot be created or called."""

    def __init__(self, model_id: str, reason: str = "") -> None:
        self.model_id = model_id
        self.reason = reason
        super().__init__(f"model {model_id!r} is unavailable" + (f": {reason}" if reason else ""))


class InvalidQuestion(NewsbotError):
    """A question that cannot be asked (empty or too long)."""


class DatasetError(NewsbotError):
    """An evaluation dataset that does not follow the contract."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")
