"""One exception type for callers, carrying the server's own message verbatim."""
from __future__ import annotations


class SkySegError(RuntimeError):
    """A request failed. ``str(err)`` includes the server's message; ``status`` its status code."""

    def __init__(self, message: str, *, model: str | None = None, status: str | None = None,
                 retryable: bool = False) -> None:
        super().__init__(message)
        self.model = model
        self.status = status
        self.retryable = retryable  #: the server was unreachable or unavailable: sending again may work


#: Messages of a server that is starting or stopping: the model is known but not loaded yet.
TRANSIENT = ("has no available versions", "Server is stopping", "is not ready")


def from_triton(exc: Exception, model: str, url: str) -> SkySegError:
    """Wrap tritonclient's InferenceServerException (or a transport error) without hiding it."""
    message = exc.message() if hasattr(exc, "message") and callable(exc.message) else str(exc)
    status = exc.status() if hasattr(exc, "status") and callable(exc.status) else None
    if "UNAVAILABLE" in str(status) or isinstance(exc, (ConnectionError, OSError)):
        return SkySegError(f"cannot reach the skyseg server at {url}: {message}", model=model, status=str(status),
                           retryable=True)
    return SkySegError(f"{model}: {message}", model=model, status=None if status is None else str(status),
                       retryable=any(phrase in message for phrase in TRANSIENT))
