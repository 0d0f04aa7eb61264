"""The mock LLM HTTP server: routing, auth, recording, and writing scripted replies."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from providers.mockllm import anthropic, gemini, openai_chat, openai_responses
from providers.mockllm.script import STAMP, STAMP_BYTES, Reply, ScriptBook, default_reply, fill_from_request, send_time
from providers.mockllm.sse import Frame, with_quirks

BAD_KEY = "bad-key"
MAX_RECORDED = 1000
MODELS = ("mock-model", "gpt-mock", "claude-mock", "gemini-mock")


class MockState:
    """Scripts and recorded requests, shared by all handler threads."""

    def __init__(self) -> None:
        self.scripts = ScriptBook()
        self._lock = threading.Lock()
        self._requests: deque[dict[str, Any]] = deque(maxlen=MAX_RECORDED)

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._requests.append(entry)

    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._requests)

    def reset(self) -> None:
        self.scripts.reset()
        with self._lock:
            self._requests.clear()


class MockLLMServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # bursts of hundreds of concurrent streams

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = MockState()
        self.host = host
        super().__init__((host, port), Handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (aborted streams) are routine, not worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def stop(self) -> None:
        """Stop serving and release the port (in-flight streams are daemon threads)."""
        self.shutdown()
        self.server_close()


def _route(path: str) -> tuple[ModuleType, bool | None] | None:
    """(format module, stream flag or None when the body decides) for an LLM endpoint."""
    if path.endswith("/chat/completions"):
        return openai_chat, None
    if path.endswith("/responses"):
        return openai_responses, None
    if path.endswith("/messages"):
        return anthropic, None
    if path.endswith(":streamGenerateContent"):
        return gemini, True
    if path.endswith(":generateContent"):
        return gemini, False
    return None


class Handler(BaseHTTPRequestHandler):
    server: MockLLMServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: benchmarks make thousands of requests."""

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/_mock/requests":
            self._json(200, {"requests": self.server.state.requests()})
        elif path.endswith("/models"):
            self._json(200, _models())
        else:
            self._json(404, {"error": {"message": f"no route for GET {path}"}})

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        try:
            body = self._body()
        except ValueError:
            self._json(400, {"error": {"message": "request body is not JSON"}})
            return
        if url.path.startswith("/_mock/"):
            self._control(url.path, body)
            return
        route = _route(url.path)
        if route is None:
            self._json(404, {"error": {"message": f"no route for POST {url.path}"}})
            return
        self.server.state.record(
            {
                "path": url.path,
                "query": url.query,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body,
            }
        )
        fmt, stream = route
        self._serve(fmt, body, bool(body.get("stream")) if stream is None else stream, url.query)

    def _control(self, path: str, body: dict[str, Any]) -> None:
        state = self.server.state
        if path == "/_mock/script":
            try:
                state.scripts.add(body.get("match"), list(body.get("replies") or []), body.get("stream"))
            except (KeyError, TypeError, ValueError) as exc:
                self._json(400, {"error": {"message": f"bad script: {exc!r}"}})
                return
            self._json(200, {"ok": True})
        elif path == "/_mock/reset":
            state.reset()
            self._json(200, {"ok": True})
        else:
            self._json(404, {"error": {"message": f"no control route {path}"}})

    def _serve(self, fmt: ModuleType, body: dict[str, Any], stream: bool, query: str) -> None:
        if self._api_key(query) == BAD_KEY:
            self._json(401, fmt.error(401, "Invalid API key provided: bad-key"))
            return
        conv = fmt.conversation(body)
        scripted = self.server.state.scripts.take(conv.last_user_text, stream)
        reply = fill_from_request(scripted, json.dumps(body)) if scripted else default_reply(conv)
        if reply.error_status:
            headers = {"Retry-After": reply.retry_after} if reply.retry_after is not None else {}
            message = reply.error_message or f"mock error {reply.error_status}"
            self._json(reply.error_status, fmt.error(reply.error_status, message), headers)
        elif stream:
            self._stream(_shaped(fmt.stream(reply, conv, body), reply, fmt), reply)
        else:
            time.sleep(reply.stall_seconds)
            if reply.stamp:
                reply.text_chunks = [chunk.replace(STAMP, send_time()) for chunk in reply.text_chunks]
            self._json(200, fmt.complete(reply, conv, body))

    def _api_key(self, query: str) -> str:
        bearer = self.headers.get("authorization", "").removeprefix("Bearer ").strip()
        key = self.headers.get("x-api-key") or self.headers.get("x-goog-api-key") or bearer
        return key or (parse_qs(query).get("key") or [""])[0]

    def _stream(self, frames: Iterator[Frame], reply: Reply) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        try:
            time.sleep(reply.stall_seconds)
            for frame in frames:
                if isinstance(frame, float):
                    time.sleep(frame)
                    continue
                if reply.stamp:
                    frame = frame.replace(STAMP_BYTES, send_time().encode())
                if reply.quirks:
                    frame = with_quirks(frame, reply.quirks)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
                self.wfile.flush()
            if reply.disconnect:
                self.close_connection = True  # hang up with the chunked body unfinished
                return
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away (an abort): nothing to do

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw.strip() else {}
        if not isinstance(body, dict):
            raise ValueError("body must be a JSON object")
        return body

    def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _shaped(frames: Iterator[Frame], reply: Reply, fmt: ModuleType) -> Iterator[Frame]:
    """Apply `malformed` (garbage after the first frame), `truncate` and `disconnect` (stop
    half-way) and `stream_error` (the vendor's in-stream error half-way)."""
    if reply.malformed:
        yield next(frames)
        yield fmt.MALFORMED
        return
    if reply.truncate or reply.disconnect or reply.stream_error_status:
        data = [f for f in frames if isinstance(f, bytes)]
        yield from data[: max(1, len(data) // 2)]
        if reply.stream_error_status:
            status = reply.stream_error_status
            yield fmt.stream_error(status, reply.stream_error_message or f"mock error {status}")
        return
    yield from frames


def _models() -> dict[str, Any]:
    """One listing that satisfies both the OpenAI and the Anthropic SDK."""
    data = [
        {
            "id": m,
            "object": "model",
            "type": "model",
            "display_name": m,
            "created": 0,
            "created_at": "2025-01-01T00:00:00Z",
            "owned_by": "mockllm",
        }
        for m in MODELS
    ]
    return {"object": "list", "data": data, "has_more": False, "first_id": MODELS[0], "last_id": MODELS[-1]}


def start_in_thread(host: str = "127.0.0.1", port: int = 0) -> MockLLMServer:
    """Start a server on a daemon thread (tests, benchmarks); stop it with `.stop()`."""
    server = MockLLMServer(host, port)
    threading.Thread(target=server.serve_forever, name="mockllm", daemon=True).start()
    return server
