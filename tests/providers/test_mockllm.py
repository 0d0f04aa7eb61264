"""The fake LLM server: scripts, directives, recording, concurrency and the command."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from providers.interface import PromptMessage, TextDelta, ToolCallComplete
from providers.mockllm import MockLLMServer
from tests.providers.conftest import make_adapter, make_request, of_type, recorded, script

ROOT = Path(__file__).resolve().parents[2]


def reply_text(server: MockLLMServer, flavour: str, text: str) -> str:
    events = list(make_adapter(server, flavour).stream(make_request(flavour, text)))
    return "".join(e.text for e in of_type(events, TextDelta))


def test_unscripted_requests_get_an_echo(mockllm: MockLLMServer) -> None:
    assert reply_text(mockllm, "openai", "ping") == "Mock reply to: ping"


def test_scripts_are_consumed_fifo_by_matching_requests(mockllm: MockLLMServer) -> None:
    script(mockllm, {"text": "one"}, {"text": "two"}, match="banana")
    assert reply_text(mockllm, "anthropic", "apple") == "Mock reply to: apple"
    assert reply_text(mockllm, "anthropic", "a banana please") == "one"
    assert reply_text(mockllm, "openai", "more banana") == "two"
    assert reply_text(mockllm, "openai", "banana again") == "Mock reply to: banana again"


def test_reset_drops_scripts_and_recorded_requests(mockllm: MockLLMServer) -> None:
    script(mockllm, {"text": "scripted"})
    reply_text(mockllm, "openai", "x")
    httpx.post(mockllm.url + "/_mock/reset").raise_for_status()
    assert recorded(mockllm) == []


def test_a_bad_script_is_rejected(mockllm: MockLLMServer) -> None:
    response = httpx.post(mockllm.url + "/_mock/script", json={"replies": [{"tool_calls": [{"no_name": 1}]}]})
    assert response.status_code == 400


def test_requests_are_recorded_with_headers_and_body(mockllm: MockLLMServer) -> None:
    reply_text(mockllm, "anthropic", "record me")
    (seen,) = recorded(mockllm)
    assert seen["path"] == "/v1/messages"
    assert seen["body"]["messages"][-1]["content"][0]["text"] == "record me"
    assert "chatd/" in seen["headers"]["user-agent"]


@pytest.mark.parametrize("flavour", ["openai", "openai_responses", "anthropic", "google"])
def test_tool_directive_then_tool_result_ends_the_run(mockllm: MockLLMServer, flavour: str) -> None:
    adapter = make_adapter(mockllm, flavour)
    request = make_request(flavour, 'please\nmock: tool read_file {"path": "a.txt"}')
    (call,) = of_type(list(adapter.stream(request)), ToolCallComplete)
    assert (call.name, call.args) == ("read_file", {"path": "a.txt"})
    request.messages += [
        PromptMessage(
            "assistant", [{"type": "tool_call", "tool_call_id": call.id, "tool_name": call.name, "args": call.args}]
        ),
        PromptMessage(
            "tool", [{"type": "tool_result", "tool_call_id": call.id, "tool_name": call.name, "result": "hello"}]
        ),
    ]
    text = "".join(e.text for e in of_type(list(adapter.stream(request)), TextDelta))
    assert text.startswith("The tool read_file returned:") and "hello" in text


def test_directives_for_text_parallel_tools_and_usage(mockllm: MockLLMServer) -> None:
    prompt = 'mock: text Sure.\nmock: tool read_file {"path": "a"}\nmock: tool read_file {"path": "b"}\nmock: usage 7 3'
    events = list(make_adapter(mockllm, "openai").stream(make_request("openai", prompt)))
    assert "".join(e.text for e in of_type(events, TextDelta)) == "Sure."
    assert [c.args["path"] for c in of_type(events, ToolCallComplete)] == ["a", "b"]


def test_error_directive_returns_the_status(mockllm: MockLLMServer) -> None:
    response = httpx.post(
        mockllm.url + "/v1/chat/completions",
        json={"model": "m", "messages": [{"role": "user", "content": "mock: error 503 2"}]},
    )
    assert response.status_code == 503 and response.headers["retry-after"] == "2"
    assert "error" in response.json()


def test_quirks_directive_sends_crlf_comments_and_multiline_data(mockllm: MockLLMServer) -> None:
    prompt = "mock: text hi\nmock: quirks crlf comments multiline_data"
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": prompt}]}
    wire = httpx.post(mockllm.url + "/v1/chat/completions", json=body).content
    assert wire.startswith(b": keep-alive\r\ndata: {")
    assert b',\r\ndata: "' in wire
    assert b"\n" not in wire.replace(b"\r\n", b"")


def test_stream_error_directive_ends_the_stream_with_the_vendor_error_event(mockllm: MockLLMServer) -> None:
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "mock: stream_error 529"}]}
    wire = httpx.post(mockllm.url + "/v1/messages", json=body).content
    assert wire.endswith(
        b'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "mock error 529"}}\n\n'
    )


def test_an_unknown_quirk_is_rejected(mockllm: MockLLMServer) -> None:
    response = httpx.post(mockllm.url + "/_mock/script", json={"replies": [{"quirks": ["lf-only"]}]})
    assert response.status_code == 400


def test_bad_key_gets_a_401_in_the_vendor_shape(mockllm: MockLLMServer) -> None:
    response = httpx.post(mockllm.url + "/v1/messages", headers={"x-api-key": "bad-key"}, json={"messages": []})
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"


def test_models_listing(mockllm: MockLLMServer) -> None:
    assert "mock-model" in [m["id"] for m in httpx.get(mockllm.url + "/v1/models").json()["data"]]


def test_serves_a_hundred_slow_streams_at_once(mockllm: MockLLMServer) -> None:
    adapter = make_adapter(mockllm, "openai")
    request = make_request("openai", "mock: slow 10 100ms")

    def run(_: int) -> int:
        return len(of_type(list(adapter.stream(request)), TextDelta))

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=120) as pool:
        counts = list(pool.map(run, range(120)))
    assert counts == [10] * 120
    assert time.monotonic() - started < 5  # one stream alone takes about 1 s


def test_manage_py_mockllm_prints_ready_with_its_port() -> None:
    if not (ROOT / "manage.py").exists():
        pytest.skip("manage.py does not exist yet")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "mockllm", "--port", "0"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("READY ")
        port = int(line.split()[1])
        assert httpx.get(f"http://127.0.0.1:{port}/v1/models").status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


STAMP = re.compile(r"@(\d+\.\d{6}) ")


def stamped_chunks(server: MockLLMServer, flavour: str, prompt: str) -> list[tuple[float, float]]:
    """(stamp, when this client had the chunk) for every stamped text chunk of a streamed reply."""
    seen: list[tuple[float, float]] = []
    for event in make_adapter(server, flavour).stream(make_request(flavour, prompt)):
        if isinstance(event, TextDelta):
            seen += [(float(stamp), time.time()) for stamp in STAMP.findall(event.text)]
    return seen


@pytest.mark.parametrize("flavour", ["openai", "openai_responses", "anthropic", "google"])
def test_stamped_chunks_carry_their_send_time_in_every_format(mockllm: MockLLMServer, flavour: str) -> None:
    seen = stamped_chunks(mockllm, flavour, "mock: stamp\nmock: slow 3 50ms")
    assert len(seen) == 3
    assert all(stamp <= received for stamp, received in seen)
    assert all(later[0] >= earlier[0] + 0.05 for earlier, later in itertools.pairwise(seen))


def test_a_chunk_is_stamped_when_written_not_when_built(mockllm: MockLLMServer) -> None:
    """The first text chunk goes out one delay after the stream's opening chunk; a stamp taken
    when the frame was built (before that delay) would be earlier than this bound."""
    requested = time.time()
    seen = stamped_chunks(mockllm, "openai", "mock: slow 2 200ms\nmock: stamp")
    assert seen[0][0] >= requested + 0.2


def test_a_stamped_completion_has_no_placeholder_left(mockllm: MockLLMServer) -> None:
    script(mockllm, {"text": ["a", "b"], "stamp": True})
    before = time.time()
    completion = make_adapter(mockllm, "anthropic").complete(make_request("anthropic", "hi"))
    stamps = [float(s) for s in STAMP.findall(completion.text)]
    assert completion.text.startswith("a@") and len(stamps) == 2 and "{{" not in completion.text
    assert all(before <= stamp <= time.time() for stamp in stamps)
