"""The browser UI in Debian's headless Chromium, against a real `serve` process and mockllm.

Logs in, creates a chat, watches the answer stream, sees a tool call, queues a message while
busy, reloads mid-stream and still sees the whole answer, interrupts; screenshots go to
tests/e2e/artifacts/.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from chats.models import Chat, Message
from chats.parts import parts_text
from tests.chats import samples
from tests.e2e.browser import BROWSER_TESTS, CHAT_URL, browser_page, log_in, open_page, person, shot
from tests.e2e.conftest import LiveApp
from tests.llm import recorded, script
from workspaces import services as workspace_services
from workspaces.models import WorkspaceTemplate

pytest.importorskip("playwright.sync_api")
pytestmark = BROWSER_TESTS


@pytest.fixture
def page(live_app: LiveApp, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with browser_page(live_app.http, monkeypatch) as page:
        yield page


def streamed_text(page: Any) -> str:
    return (
        str(page.locator(".message.streaming .text").inner_text()) if page.locator(".message.streaming").count() else ""
    )


def test_a_chat_streams_queues_survives_reload_and_interrupts(
    live_app: LiveApp, django_user_model: Any, llm: Any, mock_model: Any, page: Any
) -> None:
    user = person(django_user_model, "carol")
    words = [f"word{i} " for i in range(60)]
    script(
        llm,
        {"text": "Let me look at the templates first.", "tool_calls": [{"name": "list_templates", "arguments": {}}]},
        {"text": ["## Plan\n\n", *words, "\n\n```python\nprint('done')\n```\n"], "chunk_delay_ms": 120},
        match="first task",
        stream=True,
    )
    script(llm, {"text": [f"second{i} " for i in range(200)], "chunk_delay_ms": 100}, match="second task", stream=True)

    log_in(page, "carol")
    page.fill("#composer-input", "first task: plan the work")
    page.keyboard.press("Enter")
    page.wait_for_url(CHAT_URL)
    chat = Chat.objects.get(owner=user)
    assert page.url.endswith(f"/chats/{chat.pk}/")

    # The tool call shows its name, and its result once the tool has run.
    call = page.locator('.tool-call[data-tool="list_templates"]')
    call.locator(".tool-state", has_text="done").wait_for()

    # The answer streams: the in-flight text grows while the chat runs.
    page.wait_for_function("document.querySelector('.message.streaming .text')?.innerText.includes('word3')")
    early = streamed_text(page)
    page.wait_for_function("document.querySelector('.message.streaming .text')?.innerText.includes('word12')")
    assert len(streamed_text(page)) > len(early)
    assert page.locator("#send").inner_text() == "Queue"

    # A message sent while busy is queued, visibly.
    page.fill("#composer-input", "second task please")
    page.keyboard.press("Enter")
    page.locator(".queued .queued-text", has_text="second task please").wait_for()
    shot(page, "1-streaming-with-tool-call-and-queue")

    # Reload mid-stream: the snapshot brings back what was said so far, then the rest streams.
    page.reload()
    page.wait_for_function("document.querySelector('.message.streaming .text')?.innerText.includes('word1')")
    assert page.locator(".queued").count() == 1
    first_answer = page.locator(".message.assistant:not(.streaming)", has_text="word59")
    first_answer.wait_for()
    persisted = Message.objects.filter(chat=chat, role="assistant").order_by("id")
    final = next(m for m in persisted if "word59" in parts_text(m.parts))
    rendered = first_answer.locator(".text").inner_text()
    for word in words:
        assert word.strip() in rendered
    assert "print('done')" in first_answer.locator("pre code").inner_text()
    assert parts_text(final.parts).count("word0 ") == 1 and rendered.count("word0") == 1
    shot(page, "2-answer-complete-after-reload")

    # The queued message ran next; interrupt it mid-answer and the partial answer stays.
    page.wait_for_function("document.querySelector('.message.streaming .text')?.innerText.includes('second3')")
    assert page.locator(".queued").count() == 0
    page.click("#stop")
    page.wait_for_function("document.getElementById('chat').dataset.status === 'waiting'")
    partial = page.locator(".message.assistant:not(.streaming)", has_text="second1")
    partial.wait_for()
    chat.refresh_from_db()
    assert chat.status == "waiting"
    kept = Message.objects.filter(chat=chat, role="assistant").order_by("-id").first()
    assert kept is not None and "second1" in parts_text(kept.parts) and "second199" not in parts_text(kept.parts)
    assert page.locator("#stop").is_hidden()
    # The sidebar lists the chat with its live status.
    page.locator(f'#chat-list li[data-chat-id="{chat.pk}"] .status-waiting').wait_for()
    shot(page, "3-interrupted")


def test_another_users_chat_page_is_not_found(
    live_app: LiveApp, django_user_model: Any, alice: Any, mock_model: Any, page: Any
) -> None:
    chat = Chat.objects.create(owner=alice, title="alice's secret", model_config=mock_model)
    person(django_user_model, "dave")
    log_in(page, "dave")
    response = page.goto(f"/chats/{chat.pk}/")
    assert response.status == 404
    assert "alice's secret" not in page.content()


def test_sub_agents_nest_under_their_parent_and_the_tool_call_links_to_them(
    live_app: LiveApp, django_user_model: Any, llm: Any, mock_model: Any, page: Any
) -> None:
    user = person(django_user_model, "erin")
    spawn = {"name": "spawn_agent", "arguments": {"prompt": "child job: count files", "title": "File counter"}}
    script(llm, {"text": "Delegating.", "tool_calls": [spawn]}, match="delegate", stream=True)

    log_in(page, "erin")
    open_page(page, "/chats/new/")
    page.fill("#composer-input", "delegate the counting")
    page.keyboard.press("Enter")
    page.wait_for_url(CHAT_URL)
    root = Chat.objects.get(owner=user, parent=None)

    link = page.locator('.tool-call[data-tool="spawn_agent"] .subagent-link')
    link.wait_for()
    child = Chat.objects.get(parent=root)
    assert link.get_attribute("href") == f"/chats/{child.pk}/"
    nested = page.locator(f'#chat-list li[data-chat-id="{root.pk}"] > ul.children > li[data-chat-id="{child.pk}"]')
    nested.locator(".title", has_text="File counter").wait_for()
    shot(page, "4-sub-agent-nested")

    link.click()
    page.wait_for_url(f"**/chats/{child.pk}/")
    page.locator(".message.assistant", has_text="Mock reply to: child job: count files").wait_for()
    assert page.locator("#chat-title").inner_text() == "File counter"


def test_retries_show_edits_rerun_and_a_dropped_connection_heals(
    live_app: LiveApp, django_user_model: Any, llm: Any, mock_model: Any, page: Any
) -> None:
    user = person(django_user_model, "frank")
    flaky = {"error": {"status": 429, "message": "slow down please", "retry_after": 3}}
    script(llm, flaky, {"text": "Recovered answer."}, match="flaky task", stream=True)
    script(llm, {"text": "Edited answer."}, match="edited task", stream=True)
    long_answer = {"text": [f"part{i} " for i in range(50)], "chunk_delay_ms": 120}
    script(llm, long_answer, long_answer, match="long task", stream=True)  # twice: a restart may rerun it

    log_in(page, "frank")
    page.fill("#composer-input", "flaky task")
    page.keyboard.press("Enter")
    page.wait_for_url(CHAT_URL)
    chat = Chat.objects.get(owner=user)

    # The provider's 429 shows as a retry notice, which clears once the answer arrives.
    page.locator('#banner[data-kind="retry"]', has_text="slow down please").wait_for()
    shot(page, "5-retrying")
    page.locator(".message.assistant", has_text="Recovered answer.").wait_for()
    page.locator("#banner").wait_for(state="hidden")

    # Editing the user message drops it and everything after, and runs again.
    page.click(".message.user .edit")
    page.fill(".edit-form textarea", "edited task")
    page.click(".edit-form button[type=submit]")
    page.locator(".message.assistant", has_text="Edited answer.").wait_for()
    assert page.locator(".message", has_text="Recovered answer.").count() == 0
    assert page.locator(".message.user").all_inner_texts()[0].startswith("edited task")

    # The server goes away mid-answer; the page reconnects by itself and ends up with exactly
    # what the database holds.
    page.fill("#composer-input", "long task")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('.message.streaming .text')?.innerText.includes('part3')")
    live_app.restart()
    page.locator("#connection").wait_for(state="hidden")
    page.wait_for_function("document.getElementById('chat').dataset.status === 'waiting'", timeout=90_000)
    page.locator(".message.assistant:not(.streaming)", has_text="part49").wait_for()
    shot(page, "6-after-reconnect")
    persisted = [
        parts_text(m.parts) for m in Message.objects.user_visible().filter(chat=chat, role="assistant").order_by("id")
    ]
    rendered = page.locator(".message.assistant .body").all_inner_texts()
    assert [" ".join(text.split()) for text in rendered] == [" ".join(text.split()) for text in persisted]


def test_markdown_from_the_model_cannot_inject_markup(live_app: LiveApp, page: Any) -> None:
    page.goto("/login/")
    rendered = page.evaluate(
        """async () => {
          const { renderMarkdown } = await import('/static/chats/js/markdown.js');
          return renderMarkdown([
            '# Title <img src=x onerror=alert(1)>',
            '**bold** and `<b>code</b>` and [ok](https://example.com) and [bad](javascript:alert(1))',
            '```html', '<script>alert(1)</script>', '```',
            '| a | b |', '|---|---|', '| <i>1</i> | 2 |',
          ].join('\\n'));
        }"""
    )
    assert "<img" not in rendered and "<script" not in rendered and "<i>" not in rendered
    assert "&lt;img src=x onerror=alert(1)&gt;" in rendered
    assert "<strong>bold</strong>" in rendered and "<code>&lt;b&gt;code&lt;/b&gt;</code>" in rendered
    assert '<a href="https://example.com"' in rendered and 'href="javascript' not in rendered
    assert "<table>" in rendered and '<pre data-lang="html"><code>&lt;script&gt;' in rendered


def test_a_workspace_chat_shows_its_changes_and_can_be_retitled_and_archived(
    live_app: LiveApp, django_user_model: Any, llm: Any, mock_model: Any, page: Any
) -> None:
    user = person(django_user_model, "grace")
    template = WorkspaceTemplate.objects.create(name="git-repo", backend="local", startup_script="git init -q")
    workspace = workspace_services.workspace_create(owner_id=user.pk, template=template, name="scratch")
    workspace_services.workspace_run_startup(workspace=workspace)
    write = {"name": "write_file", "arguments": {"path": "hello.txt", "content": "hi\nthere\n"}}
    script(llm, {"text": "Writing it.", "tool_calls": [write]}, match="write hello", stream=True)

    log_in(page, "grace")
    page.select_option("#workspace-picker", label="scratch (running)")
    page.fill("#composer-input", "write hello.txt")
    page.keyboard.press("Enter")
    page.wait_for_url(CHAT_URL)
    chat = Chat.objects.get(owner=user)
    assert chat.workspace_id == workspace.pk

    page.locator("#show-diff", has_text="Changes (1, +2 -0)").wait_for()
    page.click("#show-diff")
    page.locator("#diff-files li", has_text="hello.txt").wait_for()
    assert "+there" in page.locator("#diff-text").inner_text()
    shot(page, "7-workspace-changes")

    page.wait_for_function("document.getElementById('chat').dataset.status === 'waiting'")
    script(llm, {"text": "Greeting file"}, stream=False)
    page.click("#regenerate-title")
    page.locator("#chat-title", has_text="Greeting file").wait_for()
    page.locator(f'#chat-list li[data-chat-id="{chat.pk}"] .title', has_text="Greeting file").wait_for()

    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#archive")
    page.wait_for_url(lambda url: url.rstrip("/") == live_app.http)
    page.locator("html[data-ready]").wait_for(state="attached")
    page.locator("#sidebar-empty").wait_for()
    chat.refresh_from_db()
    assert chat.archived


def test_attachments_are_picked_or_dropped_shown_and_reach_the_model(
    live_app: LiveApp, django_user_model: Any, llm: Any, mock_model: Any, page: Any
) -> None:
    person(django_user_model, "heidi")
    image = samples.png(8, 8)
    log_in(page, "heidi")

    page.set_input_files("#file-input", files=[{"name": "dot.png", "mimeType": "image/png", "buffer": image}])
    page.locator(".attachment-chip:not(.uploading) img").wait_for()
    # A dropped file is uploaded the same way; one whose bytes are refused never gets a chip.
    page.evaluate(
        """() => {
          const drop = (name, type, text) => {
            const data = new DataTransfer();
            data.items.add(new File([text], name, { type }));
            const event = new DragEvent('drop', { dataTransfer: data, bubbles: true });
            document.getElementById('composer').dispatchEvent(event);
          };
          drop('notes.txt', 'text/plain', 'remember the milk');
          drop('evil.svg', 'image/svg+xml', '<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>');
        }"""
    )
    page.locator(".attachment-chip:not(.uploading)", has_text="notes.txt").wait_for()
    page.locator('#banner[data-kind="error"]', has_text="evil.svg").wait_for()
    assert page.locator(".attachment-chip").count() == 2
    shot(page, "8-attachments")

    page.fill("#composer-input", "what is in the picture?")
    page.keyboard.press("Enter")
    page.wait_for_url(CHAT_URL)
    shown = page.locator(".message.user img.attachment-image")
    shown.wait_for()
    page.wait_for_function("document.querySelector('.message.user img.attachment-image').naturalWidth === 8")
    page.locator(".message.user a.attachment", has_text="notes.txt").wait_for()
    page.locator(".message.assistant", has_text="Mock reply to: what is in the picture?").wait_for()

    turn = next(r for r in recorded(llm) if r["body"].get("stream") and r["path"].endswith("/chat/completions"))
    content = [m for m in turn["body"]["messages"] if m["role"] == "user"][-1]["content"]
    b64 = base64.b64encode(image).decode()
    assert {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{b64}"}} in content
    assert any("remember the milk" in part.get("text", "") for part in content)
