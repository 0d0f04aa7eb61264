"""Real-shaped provider usage payloads, through the adapters' own usage normalisation and then
`cost_micros`, against hand-computed micro-dollars (tests/costs/golden/*.json)."""

from __future__ import annotations

import json
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from google.genai import types
from openai.types import CompletionUsage

from costs.pricing import cost_micros
from providers.adapters.anthropic import anthropic_usage
from providers.adapters.google import gemini_usage
from providers.adapters.openai import chat_usage
from providers.interface import Usage

pytestmark = pytest.mark.core

GOLDEN = sorted((Path(__file__).parent / "golden").glob("*.json"))


def normalise(adapter: str, raw: dict[str, Any] | None) -> Usage:
    if adapter == "openai":
        return chat_usage(None if raw is None else CompletionUsage.model_validate(raw))
    if adapter == "anthropic":
        return anthropic_usage(raw or {})
    if adapter == "google":
        return gemini_usage(None if raw is None else types.GenerateContentResponseUsageMetadata.model_validate(raw))
    raise AssertionError(f"unknown adapter {adapter}")


def test_the_corpus_covers_every_provider_shape() -> None:
    assert {path.stem for path in GOLDEN} >= {
        "openai_cached_reasoning",
        "anthropic_cache_read_write",
        "gemini_thoughts",
        "openai_compatible_no_usage",
    }


@pytest.mark.parametrize("path", GOLDEN, ids=[path.stem for path in GOLDEN])
def test_golden_usage_costs_the_hand_computed_micros(path: Path) -> None:
    case = json.loads(path.read_text())
    usage = normalise(case["adapter"], case["raw"])
    tokens = {key: value for key, value in asdict(usage).items() if key != "raw"}
    prices = {key: None if value is None else Decimal(value) for key, value in case["prices"].items()}

    assert tokens == case["usage"]
    assert cost_micros(tokens, prices) == case["cost_micros"]
