"""Small helpers shared by the vendor adapters."""

from __future__ import annotations

import base64
import contextlib
import json
import socket
from typing import Any

from providers.interface import ProviderError

TEXT_MEDIA_TYPES = frozenset({"text/plain", "text/markdown", "text/csv", "application/json"})


def abort_response(response: Any) -> None:
    """Close an httpx/httpx2 response so that a read blocked on another thread returns.

    Closing alone leaves a blocked `recv` waiting on Linux; shutting the socket down
    wakes it at once.
    """
    network_stream = getattr(response, "extensions", {}).get("network_stream")
    sock = network_stream.get_extra_info("socket") if network_stream is not None else None
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed by the peer
            sock.shutdown(socket.SHUT_RDWR)
    response.close()


def untransformed(params: dict[str, Any], bulky: tuple[str, ...], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """Keyword arguments for an openai SDK call, with the `bulky` parameters in `extra_body`.

    The openai SDK walks every parameter through its TypedDict transforms: ~0.15 ms of CPU per
    history message, 16 ms a call at 100 messages, on every step. Ours are plain JSON already,
    and the SDK merges `extra_body` into the request body as it is (its keys win). A `required`
    parameter keeps an empty placeholder for the SDK's argument check.
    """
    moved = {key: params[key] for key in bulky if key in params}
    kwargs = {key: value for key, value in params.items() if key not in moved}
    return {**kwargs, **{key: [] for key in required if key in moved}, "extra_body": moved}


def parse_args(raw: str | None) -> dict[str, Any]:
    """Tool-call arguments as an object; anything else becomes {} (like the history repair)."""
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def without_none(value: Any) -> Any:
    """A decoded JSON value without null members, as the SDKs' `model_dump(exclude_none=True)`."""
    if isinstance(value, dict):
        return {key: without_none(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_none(item) for item in value]
    return value


def dump_args(args: dict[str, Any]) -> str:
    return json.dumps(args, ensure_ascii=False)


def data_url(part: dict[str, Any]) -> str:
    return f"data:{part['media_type']};base64,{base64.b64encode(part['data']).decode()}"


def is_text_file(part: dict[str, Any]) -> bool:
    return part.get("media_type") in TEXT_MEDIA_TYPES


def file_as_text(part: dict[str, Any]) -> str:
    """Text uploads are inlined: every vendor reads them, not every vendor takes them as files."""
    body = part["data"].decode("utf-8", errors="replace")
    return f"{part.get('name') or 'attachment'}:\n```\n{body}\n```"


def malformed(detail: str, *, retryable: bool = False) -> ProviderError:
    return ProviderError(f"malformed response from the provider: {detail}", kind="malformed", retryable=retryable)


def stream_ended_early() -> ProviderError:
    """The connection ended before the model said it finished (counts as a network glitch)."""
    return malformed("stream ended unexpectedly (eof) before the model finished", retryable=True)
