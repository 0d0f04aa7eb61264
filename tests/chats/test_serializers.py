"""The hand-written event payloads are exactly what the serializers produce (API.md §4)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.utils import timezone

from chats import services
from chats.enums import ChatStatus, Role, Visibility
from chats.models import Chat, Message, QueuedMessage
from chats.serializers import (
    ChatSerializer,
    MessageSerializer,
    QueuedMessageSerializer,
    chat_data,
    message_data,
    queued_message_data,
)
from workspaces.models import Workspace

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def _same(built: dict[str, Any], serialized: Any) -> None:
    assert built == serialized
    assert list(built) == list(serialized)  # same key order on the wire
    assert json.dumps(built) == json.dumps(serialized)


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata"])
def test_chat_data_is_the_chat_serializer_output(alice: Any, model_config: Any, zone: str) -> None:
    workspace = Workspace.objects.create(owner=alice, name="ws")
    root = services.chat_create(owner=alice, content="hello", workspace_id=workspace.pk)
    child = services.chat_create(owner=alice, content="sub", parent=root, title="Child")
    Chat.objects.filter(pk=child.pk).update(status=ChatStatus.ERROR, last_error="boom", archived=True)
    chats = [Chat.objects.get(pk=root.pk), Chat.objects.get(pk=child.pk), root, child]
    chats.append(Chat.objects.create(owner=alice))  # no model, no workspace, fresh row
    with timezone.override(zone):
        for chat in chats:
            _same(chat_data(chat), ChatSerializer(chat).data)


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_message_data_is_the_message_serializer_output(alice: Any, model_config: Any, zone: str) -> None:
    chat = services.chat_create(owner=alice, content=[{"type": "text", "text": "hi"}])
    assistant = Message.objects.create(
        chat=chat, role=Role.ASSISTANT, parts=[{"type": "text", "text": "yes"}], model_config=model_config,
        input_tokens=12, output_tokens=None, cache_read_tokens=3, cost_micros=4567,
    )  # fmt: skip
    unpriced = Message(chat=chat, role=Role.ASSISTANT, parts=[], visibility=Visibility.USER)
    Message.objects.bulk_create([unpriced])
    tool = Message.objects.create(chat=chat, role=Role.TOOL, parts=[{"type": "tool_result", "result": {"a": 1}}])
    rows = [*Message.objects.filter(chat=chat), assistant, unpriced, tool]
    with timezone.override(zone):
        for row in rows:
            _same(message_data(row), MessageSerializer(row).data)


def test_queued_message_data_is_the_queued_message_serializer_output(alice: Any, model_config: Any) -> None:
    chat = services.chat_create(owner=alice, content="hello")
    queued = [
        QueuedMessage.objects.create(chat=chat, parts=[{"type": "text", "text": "later"}], created_by=alice),
        QueuedMessage.objects.create(chat=chat, parts=[], model_config=model_config),
    ]
    for row in [*queued, *QueuedMessage.objects.filter(chat=chat)]:
        _same(queued_message_data(row), QueuedMessageSerializer(row).data)
