"""Every API error body is ``{"detail": <sentence>, "code": <machine code>, ...}`` (API.md §2)."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class APIError(exceptions.APIException):
    """An error with a status, a machine code and optional extra fields in the body."""

    def __init__(self, detail: str, *, code: str, status_code: int, **extra: Any) -> None:
        super().__init__(detail, code)
        self.status_code = status_code
        self.extra = extra


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    # Validation errors keep DRF's per-field shape; everything else gets a code.
    if isinstance(response.data, dict) and "detail" in response.data:
        detail = response.data["detail"]
        response.data["code"] = getattr(detail, "code", None) or "error"
        response.data.update(getattr(exc, "extra", {}))
    return response
