"""A step's stored parts, built from the model stream's events."""

from __future__ import annotations

import pytest

from chats.agent.accumulator import StepAccumulator
from providers import interface as llm

pytestmark = pytest.mark.core


def test_a_source_cited_again_in_the_same_step_is_stored_and_published_once() -> None:
    """Providers repeat a source for every passage citing it (Anthropic citations, Responses
    annotations, Gemini's cumulative grounding): one source part per url is what a reader wants."""
    acc = StepAccumulator()
    published = [
        acc.add(llm.Source("https://example.com/a", "A")),
        acc.add(llm.TextDelta("see A")),
        acc.add(llm.Source("https://example.com/a", "A, cited again")),
        acc.add(llm.Source("https://example.org/b", "B")),
    ]
    assert published[2] is None
    sources = [(p["url"], p["title"]) for p in acc.parts if p["type"] == "source"]
    assert sources == [("https://example.com/a", "A"), ("https://example.org/b", "B")]
