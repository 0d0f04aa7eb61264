"""Errors raised by chat services; each carries its HTTP status and machine code."""

from __future__ import annotations

from rest_framework import status

from config.api_errors import APIError


class InvalidInput(APIError):
    def __init__(self, detail: str, code: str = "invalid") -> None:
        super().__init__(detail, code=code, status_code=status.HTTP_400_BAD_REQUEST)


class QueueFull(APIError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            f"Maximum {limit} messages can be queued.", code="queue_full", status_code=status.HTTP_429_TOO_MANY_REQUESTS
        )


class FileTooLarge(APIError):
    def __init__(self, limit_bytes: int) -> None:
        super().__init__(
            "File too large.",
            code="file_too_large",
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            limit_bytes=limit_bytes,
        )
