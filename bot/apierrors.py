"""The REST API's errors: each becomes `{"error": {"code", "message"}}`."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A refusal the caller can act on; never an internal fault."""

    def __init__(
        self, status: int, code: str, message: str, *, who_may: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.who_may = who_may

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.who_may:
            error["who_may"] = self.who_may
        return {"error": error}


def unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message)


def forbidden(message: str, who_may: str | None = None) -> ApiError:
    return ApiError(403, "forbidden", message, who_may=who_may)


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "bad_request", message)


def unavailable(message: str) -> ApiError:
    return ApiError(503, "not_configured", message)
