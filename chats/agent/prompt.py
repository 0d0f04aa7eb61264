"""What the model is told (reference §8.1 step 7 and §6): system prompts and their order."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from providers.interface import PromptMessage

DEFAULT_SYSTEM_PROMPT = """\
You are chatd's coding agent: a senior software engineer who gets real work done in the \
user's developer workspace by reading and editing files and running commands.

Behaviour
- Understand before you change: read the relevant code, run the tests, reproduce the problem.
- Make the smallest change that fully solves the task, in the style of the surrounding code.
- Verify your work: run the build, the tests or the program, and read the output.
- When something fails, read the error, form a hypothesis and try again; do not guess blindly.
- Never claim you ran or checked something you did not.

Tools
- Use the tools rather than asking the user to do things you can do yourself.
- Prefer read_file over `cat`, and edit_files over rewriting whole files.
- Long-running commands (servers, watchers) go in the background; check them with process_output.

Communication
- Be concise. Lead with the answer or the result, then the details that matter.
- Use Markdown: fenced code blocks with a language, short lists, file paths in backticks.
- Ask a question only when a wrong guess would be costly; otherwise state your assumption and proceed.
"""

WORKSPACE_ATTACHED = (
    "A workspace is attached to this chat. Use the workspace tools (read_file, write_file, edit_files, "
    "execute, process_output, process_list, process_signal) to work in it."
)
NO_WORKSPACE = (
    "No workspace exists for this chat yet. If the task needs files or commands, call list_templates and "
    "then create_workspace first; until then the workspace tools will fail."
)
SUBAGENT_INSTRUCTION = (
    "You are a delegated sub-agent working for another agent, not talking to a person. Finish the task you "
    "were given on your own, then reply with a concise report of what you did and found; the parent agent "
    "reads only your final answer."
)


COMPUTER_USE_INSTRUCTION = """\
You operate a graphical desktop through the `computer` tool: it takes screenshots and moves and \
clicks the mouse, types and presses keys. Work like this:
- Always start with a screenshot to see what is on the screen before you act.
- After every action, look at the screenshot that comes back and check that the action did what \
you meant before you go on; if it did not, try another way.
- Click the centre of buttons and fields; click a window before you type into it.
- Every screenshot is attached to this chat as a file, so the person reviewing your work can \
follow along.
- When you are done, reply with a short report of what you did, what you saw and whether the \
task succeeded.
"""
MEDIA_RESULTS_SENT = 3  # the latest screenshots go to the model as images, older ones as text


def workspace_awareness(has_workspace: bool) -> str:
    return WORKSPACE_ATTACHED if has_workspace else NO_WORKSPACE


def user_instructions(custom_prompt: str) -> str:
    return f"<user-instructions>\n{custom_prompt.strip()}\n</user-instructions>"


def inject_system(messages: list[PromptMessage], blocks: Iterable[str]) -> list[PromptMessage]:
    """Insert each non-empty block as a system message right after the leading system messages."""
    lead = 0
    while lead < len(messages) and messages[lead].role == "system":
        lead += 1
    injected = [PromptMessage("system", [{"type": "text", "text": b}]) for b in blocks if b and b.strip()]
    return [*messages[:lead], *injected, *messages[lead:]]


def text_part(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def recent_media_only(messages: list[PromptMessage], keep: int = MEDIA_RESULTS_SENT) -> list[PromptMessage]:
    """Drop the bytes of all but the last `keep` media tool results: screenshots are the bulk
    of a computer-use prompt and only the latest ones matter (their text stays)."""
    places = [(m, i) for m, message in enumerate(messages) for i, part in enumerate(message.parts) if _has_media(part)]
    drop = set(places[: max(0, len(places) - keep)])
    if not drop:
        return messages
    trimmed = []
    for m, message in enumerate(messages):
        if any((m, i) in drop for i in range(len(message.parts))):
            parts = [_without_data(part) if (m, i) in drop else part for i, part in enumerate(message.parts)]
            message = PromptMessage(message.role, parts)
        trimmed.append(message)
    return trimmed


def _has_media(part: dict[str, Any]) -> bool:
    return bool(part.get("type") == "tool_result" and part.get("is_media") and part.get("data"))


def _without_data(part: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in part.items() if key != "data"}
