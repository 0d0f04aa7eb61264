"""Database queries per step, counted exactly: one chat driven in this process.

`python -m bench.queries`, run by stream_bench with the bench deployment's environment once
its workers have stopped (so no other process takes the chat). The message goes through the
real API view (Django's test client, token auth) and the turn through the worker's own
`run_chat`, each inside Django's CaptureQueriesContext, which sees every query this thread
sends. A one-step and a two-step turn give the cost of a step and the fixed cost of a turn.
Prints one JSON object.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import django

WARMUP_TEXT = "mock: text ready"
ONE_STEP = "mock: text one step"
TWO_STEPS = "mock: tool process_list {}"  # a tool call, its result, then the model's answer


def _counted(action: Callable[[], Any]) -> tuple[int, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        result = action()
    return len(captured), result


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from chats import worker
    from chats.enums import Role
    from chats.models import Message

    token = Token.objects.get(user__username="bench-user")
    api = APIClient(SERVER_NAME="127.0.0.1", HTTP_AUTHORIZATION=f"Token {token.key}")
    chat_id = api.post("/api/chats/", {"content": WARMUP_TEXT}, format="json").json()["id"]
    worker.run_chat(chat_id)  # the first turn also titles the chat: not what a step costs

    def send(content: str) -> Any:
        response = api.post(f"/api/chats/{chat_id}/messages/", {"content": content}, format="json")
        assert response.status_code == 201, response.content
        return response

    send_queries, _ = _counted(lambda: send(ONE_STEP))
    one_step, _ = _counted(lambda: worker.run_chat(chat_id))
    send(TWO_STEPS)
    before = Message.objects.filter(chat_id=chat_id, role=Role.ASSISTANT).count()
    two_steps, _ = _counted(lambda: worker.run_chat(chat_id))
    steps = Message.objects.filter(chat_id=chat_id, role=Role.ASSISTANT).count() - before
    if steps != 2:
        raise SystemExit(f"expected a two-step turn, got {steps} steps")
    print(json.dumps({"send": send_queries, "one_step_turn": one_step, "two_step_turn": two_steps}))


if __name__ == "__main__":
    main()
