"""Prometheus metrics incremented by code (API.md §9). Gauges that the database knows (chats by
status, queue depth) are computed at scrape time instead, by `config.metrics`.

These live in this process's default registry: in distributed mode each Celery worker holds its
own counts, so scrape the workers too (or run prometheus-client's multiprocess mode).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from costs.models import UsageEntry

STEPS = Counter("chatd_steps", "Model steps recorded.", ["model"])
TOKENS = Counter("chatd_llm_tokens", "Tokens used by model steps.", ["model", "kind"])
COST = Counter("chatd_llm_cost_micros", "Cost of model steps in micro-dollars (priced steps only).", ["model"])
UNPRICED_STEPS = Counter("chatd_unpriced_steps", "Steps with tokens but no price.", ["model"])
LLM_LATENCY = Histogram(
    "chatd_llm_step_seconds",
    "Wall time of one model call, from request to the last streamed event.",
    ["model"],
    buckets=(0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300),
)
RETRIES = Counter("chatd_llm_retries", "Provider calls retried after a retryable error.", ["model"])
ACTIVE_STREAMS = Gauge("chatd_stream_subscribers", "Open WebSocket subscriptions to chat streams.")

_TOKEN_KINDS = {
    "input": "input_tokens",
    "output": "output_tokens",
    "reasoning": "reasoning_tokens",
    "cache_read": "cache_read_tokens",
    "cache_write": "cache_write_tokens",
}


def record_step(entry: UsageEntry) -> None:
    """Count a committed ledger entry (called on commit by `usage_record`)."""
    model = entry.model or "unknown"
    STEPS.labels(model).inc()
    for kind, field in _TOKEN_KINDS.items():
        count = getattr(entry, field)
        if count:
            TOKENS.labels(model, kind).inc(count)
    if entry.cost_micros:
        COST.labels(model).inc(entry.cost_micros)
    elif entry.cost_micros is None and any(getattr(entry, field) for field in _TOKEN_KINDS.values()):
        UNPRICED_STEPS.labels(model).inc()
