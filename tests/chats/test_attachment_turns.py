"""Attachments reach the model in each vendor's own format, loaded from the database at prompt
time (reference §14), asserted on what `mockllm` received over the wire."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from chats import services, worker
from chats.enums import ChatStatus
from chats.models import Chat
from providers.mockllm import MockLLMServer
from providers.models import ModelConfig, Provider
from providers.services import model_config_save, provider_save
from tests.chats.samples import PDF, png
from tests.llm import recorded

pytestmark = [pytest.mark.core, pytest.mark.django_db(transaction=True)]

# flavour -> (provider kind, base URL suffix, model options)
FLAVOURS = {
    "openai_chat": ("openai", "/v1", {}),
    "openai_responses": ("openai", "/v1", {"use_responses_api": True}),
    "anthropic": ("anthropic", "", {}),
}


def model_for(llm: MockLLMServer, flavour: str) -> ModelConfig:
    kind, suffix, options = FLAVOURS[flavour]
    provider = provider_save(
        provider=Provider(), api_key="mock-key", name=flavour, kind=kind, base_url=llm.url + suffix
    )
    return model_config_save(
        config=ModelConfig(), provider=provider, model="mock-model", is_default=True, options=options
    )


def run_with_files(alice: Any, files: list[tuple[str, str, bytes]]) -> Chat:
    parts: list[dict[str, Any]] = [{"type": "text", "text": "Describe the attachments"}]
    for name, declared, data in files:
        chat_file = services.file_create(owner=alice, data=data, name=name, declared_type=declared)
        parts.append({"type": "file", "file_id": str(chat_file.pk)})
    chat = services.chat_create(owner=alice, content=parts)
    worker.run_chat(chat.pk)
    chat.refresh_from_db()
    assert chat.status == ChatStatus.WAITING, chat.last_error
    return chat


def user_content(llm: MockLLMServer, flavour: str) -> list[dict[str, Any]]:
    """The content blocks of the last user message of the (streamed) turn request."""
    body = next(r["body"] for r in recorded(llm) if r["body"].get("stream"))
    messages = body["input"] if flavour == "openai_responses" else body["messages"]
    return [m for m in messages if m.get("role") == "user"][-1]["content"]


@pytest.mark.parametrize("flavour", list(FLAVOURS))
def test_an_image_reaches_the_model_as_an_image(alice: Any, llm: MockLLMServer, flavour: str) -> None:
    model_for(llm, flavour)
    image = png(2, 2)
    run_with_files(alice, [("shot.png", "image/png", image)])
    b64 = base64.b64encode(image).decode()
    content = user_content(llm, flavour)
    expected = {
        "openai_chat": {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{b64}"}},
        "openai_responses": {"type": "input_image", "image_url": f"data:image/png;base64,{b64}"},
        "anthropic": {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": b64}},
    }[flavour]
    assert [{k: v for k, v in block.items() if k in expected} for block in content][1] == expected


@pytest.mark.parametrize("flavour", list(FLAVOURS))
def test_a_pdf_goes_as_a_document_and_text_files_inline(alice: Any, llm: MockLLMServer, flavour: str) -> None:
    model_for(llm, flavour)
    run_with_files(alice, [("paper.pdf", "application/pdf", PDF), ("notes.md", "text/markdown", b"# Plan\nship it")])
    content = user_content(llm, flavour)
    b64 = base64.b64encode(PDF).decode()
    document = content[1]
    if flavour == "anthropic":
        assert document["type"] == "document"
        assert document["source"] == {"type": "base64", "media_type": "application/pdf", "data": b64}
    elif flavour == "openai_chat":
        assert document == {
            "type": "file",
            "file": {"filename": "paper.pdf", "file_data": f"data:application/pdf;base64,{b64}"},
        }
    else:
        assert document == {
            "type": "input_file",
            "filename": "paper.pdf",
            "file_data": f"data:application/pdf;base64,{b64}",
        }
    assert "notes.md:\n```\n# Plan\nship it\n```" in content[2]["text"]


def test_an_image_in_an_earlier_turn_is_sent_again_from_the_database(
    alice: Any, llm: MockLLMServer, mock_model: ModelConfig
) -> None:
    image = png(3, 1)
    chat = run_with_files(alice, [("shot.png", "image/png", image)])
    services.message_send(chat=chat, user=alice, content="And now?")
    worker.run_chat(chat.pk)
    last = [r["body"] for r in recorded(llm) if r["body"].get("stream")][-1]
    first_user = next(m for m in last["messages"] if m["role"] == "user")
    assert first_user["content"][1]["image_url"]["url"].endswith(base64.b64encode(image).decode())
