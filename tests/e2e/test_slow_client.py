"""A client that cannot keep up is cut off, never waited for (DESIGN.md, Streaming).

The client below stops reading its socket while a long answer streams. The run must end and
be persisted while it reads nothing; the server must bound what it holds for it and close it
with 4409, and a reconnect with after_id must give it the whole history.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from chats.consumers import CLOSE_RESYNC
from chats.enums import ChatStatus, Role
from chats.models import Chat, Message
from chats.parts import parts_text
from providers.mockllm import MockLLMServer
from tests.e2e.conftest import LiveApp
from tests.e2e.streams import Client, answer_text, auth
from tests.e2e.workers import wait_for
from tests.llm import script

pytestmark = [pytest.mark.core, pytest.mark.django_db(transaction=True)]

MARKER = "a long answer, please"
CHUNK_BYTES = 128 * 1024
# Far more than the socket buffers on both ends (a few MiB on loopback) plus MAX_BEHIND_BYTES.
CHUNKS = 16 * (1 << 20) // CHUNK_BYTES
REPLY_CHUNKS = [f"<{i:04d}>".ljust(CHUNK_BYTES, "x") for i in range(CHUNKS)]
FULL_REPLY = "".join(REPLY_CHUNKS)


def _answered(chat: Chat) -> bool:
    return Chat.objects.filter(pk=chat.pk, status=ChatStatus.WAITING).exists() and (
        Message.objects.filter(chat=chat, role=Role.ASSISTANT).exists()
    )


def test_a_client_that_stops_reading_is_cut_off_without_slowing_the_run(
    live_app: LiveApp, alice: Any, mock_model: Any, llm: MockLLMServer
) -> None:
    script(llm, {"text": REPLY_CHUNKS}, match=MARKER, stream=True)
    chat = Chat.objects.create(owner=alice, model_config=mock_model, status=ChatStatus.WAITING)
    url = f"{live_app.ws}/ws/chats/{chat.id}/"
    # max_queue=1: once a frame waits unread, the client stops reading from the network. No
    # compression: the answer is repetitive and would shrink into the socket buffers.
    stalled = connect(url, additional_headers=auth(alice), max_queue=1, max_size=None, ping_interval=None,
                      compression=None)  # fmt: skip
    with stalled as socket:
        client = Client(socket)  # the snapshot; then nothing is read until the run is over
        response = httpx.post(f"{live_app.http}/api/chats/{chat.id}/messages/", json={"content": MARKER},
                              headers=auth(alice), timeout=20)  # fmt: skip
        assert response.status_code == 201, response.text

        wait_for(lambda: _answered(chat), "the run to end while its client reads nothing")

        assert client.read_until_closed() == CLOSE_RESYNC
    received = answer_text(client.live)
    assert len(received) < len(FULL_REPLY)  # the rest was dropped, not held for it
    assert FULL_REPLY.startswith(received)  # what came before the cut arrived whole and in order

    seen = client.messages()
    with connect(url + f"?after_id={max(seen, default=0)}", additional_headers=auth(alice), max_size=None) as socket:
        resynced = Client(socket)
    history = {**seen, **resynced.messages()}
    stored = list(Message.objects.user_visible().filter(chat=chat).order_by("id"))
    assert sorted(history) == [m.id for m in stored]
    assert [history[m.id]["role"] for m in stored] == ["user", "assistant"]
    assert parts_text(history[stored[1].id]["parts"]) == FULL_REPLY
