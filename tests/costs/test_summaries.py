"""Cost summaries and the per-user rollup: database aggregates over the ledger, checked against
plain sums over a seeded data set, in a number of queries that does not grow with the rows."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chats.models import Chat
from costs.models import UsageEntry
from tests.conftest import make_user
from tests.costs.conftest import entry

pytestmark = [pytest.mark.core, pytest.mark.django_db]

START = datetime(2025, 3, 1, tzinfo=UTC)
END = datetime(2025, 4, 1, tzinfo=UTC)
RANGE = {"start": START.isoformat(), "end": END.isoformat()}


@pytest.fixture
def seeded(alice: Any, bob: Any) -> list[UsageEntry]:
    """10 000 ledger rows of alice and bob across 50 chat trees, 3 models, in and out of March."""
    rng = random.Random(8)
    roots = [uuid.uuid4() for _ in range(50)]
    rows = []
    for i in range(10_000):
        when = START + timedelta(minutes=rng.randrange(-3 * 24 * 60, 34 * 24 * 60))
        root = rng.choice(roots)
        cost = None if i % 7 == 0 else rng.randrange(0, 5000)
        tokens = {
            "input_tokens": rng.randrange(0, 2000),
            "output_tokens": rng.randrange(0, 500),
            "cache_read_tokens": rng.randrange(0, 3) * 100,
            "cache_write_tokens": rng.randrange(0, 2) * 50,
        }
        model = rng.choice(["gpt-4o", "claude-sonnet-4-5", "gemini-2.5-pro"])
        chat = root if i % 3 else uuid.uuid4()  # a third are sub-agent steps rolling up to `root`
        user = alice if root.int % 2 else bob
        rows.append(entry(user, when, cost=cost, root=root, chat_id=chat, model=model, **tokens))
    return UsageEntry.objects.bulk_create(rows, batch_size=2000)


def in_range(rows: list[UsageEntry], user: Any = None) -> list[UsageEntry]:
    return [r for r in rows if START <= r.created_at < END and (user is None or r.user_id == user.pk)]


def has_tokens(r: UsageEntry) -> bool:
    return bool(r.input_tokens or r.output_tokens or r.cache_read_tokens or r.cache_write_tokens)


def test_the_summary_matches_plain_sums_over_10000_rows_in_a_fixed_number_of_queries(
    alice: Any, alice_api: Any, seeded: list[UsageEntry], django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(12):
        body = alice_api.get("/api/costs/summary/", RANGE).json()

    mine = in_range(seeded, alice)
    assert body["total_cost_micros"] == sum(r.cost_micros or 0 for r in mine)
    assert body["priced_message_count"] == sum(r.cost_micros is not None for r in mine)
    assert body["unpriced_message_count"] == sum(r.cost_micros is None and has_tokens(r) for r in mine)
    for field in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"):
        assert body[f"total_{field}"] == sum(getattr(r, field) for r in mine)
    per_model: dict[str, int] = defaultdict(int)
    for r in mine:
        per_model[r.model] += r.cost_micros or 0
    assert {m["model"]: m["total_cost_micros"] for m in body["by_model"]} == per_model
    assert [m["total_cost_micros"] for m in body["by_model"]] == sorted(per_model.values(), reverse=True)
    per_root: dict[str, int] = defaultdict(int)
    for r in mine:
        per_root[str(r.root_chat_id)] += r.cost_micros or 0
    assert {c["root_chat_id"]: c["total_cost_micros"] for c in body["by_chat"]} == per_root
    assert body["usage_limit"]["is_limited"] is False


def test_the_user_rollup_matches_plain_sums_in_a_fixed_number_of_queries(
    alice: Any, bob: Any, staff_api: Any, seeded: list[UsageEntry], django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(6):
        body = staff_api.get("/api/costs/users/", RANGE).json()

    rows = in_range(seeded)
    assert body["count"] == 2
    expected = {u.username: sum(r.cost_micros or 0 for r in in_range(seeded, u)) for u in (alice, bob)}
    assert {u["username"]: u["total_cost_micros"] for u in body["users"]} == expected
    assert [u["total_cost_micros"] for u in body["users"]] == sorted(expected.values(), reverse=True)
    alice_row = next(u for u in body["users"] if u["username"] == "alice")
    assert alice_row["chat_count"] == len({r.root_chat_id for r in rows if r.user_id == alice.pk})
    assert alice_row["message_count"] == sum(has_tokens(r) for r in rows if r.user_id == alice.pk)


def test_the_rollup_filters_by_name_and_pages(alice: Any, bob: Any, staff_api: Any, django_user_model: Any) -> None:
    carol = make_user(django_user_model, "carol", first_name="Carol", last_name="Alison")
    when = START + timedelta(days=1)
    UsageEntry.objects.bulk_create(
        [entry(alice, when, cost=30), entry(bob, when, cost=20), entry(carol, when, cost=10)]
    )

    body = staff_api.get("/api/costs/users/", {**RANGE, "q": "ALI"}).json()
    assert [u["username"] for u in body["users"]] == ["alice", "carol"] and body["count"] == 2
    assert body["users"][1]["name"] == "Carol Alison"
    page = staff_api.get("/api/costs/users/", {**RANGE, "limit": 1, "offset": 1}).json()
    assert [u["username"] for u in page["users"]] == ["bob"] and page["count"] == 3


def test_sub_agent_costs_roll_up_to_the_root_chat_with_its_title(alice: Any, alice_api: Any) -> None:
    root = Chat.objects.create(owner=alice, title="Refactor the parser")
    child = Chat.objects.create(owner=alice, title="sub-agent", parent=root, root=root)
    when = START + timedelta(days=2)
    UsageEntry.objects.bulk_create(
        [entry(alice, when, cost=100, root=root.pk), entry(alice, when, cost=250, root=root.pk, chat_id=child.pk)]
    )

    body = alice_api.get("/api/costs/summary/", RANGE).json()
    assert body["by_chat"] == [
        {
            "root_chat_id": str(root.pk),
            "chat_title": "Refactor the parser",
            "total_cost_micros": 350,
            "message_count": 2,
            "total_input_tokens": 20,
            "total_output_tokens": 10,
            "total_reasoning_tokens": 0,
            "total_cache_read_tokens": 0,
            "total_cache_write_tokens": 0,
        }
    ]
    tree = alice_api.get(f"/api/chats/{child.pk}/cost/").json()
    assert (tree["root_chat_id"], tree["total_cost_micros"]) == (str(root.pk), 350)


def test_the_range_is_half_open_and_defaults_to_the_last_30_days(alice: Any, alice_api: Any) -> None:
    now = datetime.now(UTC)
    UsageEntry.objects.bulk_create(
        [
            entry(alice, START, cost=1),
            entry(alice, END, cost=2),
            entry(alice, now - timedelta(days=29), cost=4),
            entry(alice, now - timedelta(days=31), cost=8),
        ]
    )
    assert alice_api.get("/api/costs/summary/", RANGE).json()["total_cost_micros"] == 1
    assert alice_api.get("/api/costs/summary/").json()["total_cost_micros"] == 4
    assert alice_api.get("/api/costs/summary/", {"start": END.isoformat(), "end": START.isoformat()}).status_code == 400


def test_only_staff_see_other_users(alice: Any, bob: Any, alice_api: Any, staff_api: Any) -> None:
    UsageEntry.objects.bulk_create([entry(bob, START, cost=7)])
    assert alice_api.get("/api/costs/summary/", {**RANGE, "user": bob.pk}).status_code == 403
    assert alice_api.get("/api/costs/summary/", {**RANGE, "user": alice.pk}).status_code == 200
    assert staff_api.get("/api/costs/summary/", {**RANGE, "user": bob.pk}).json()["total_cost_micros"] == 7
    assert staff_api.get("/api/costs/summary/", {**RANGE, "user": 999_999}).status_code == 404
    assert alice_api.get("/api/costs/users/").status_code == 403


def test_another_users_chat_cost_is_404(alice: Any, bob_api: Any) -> None:
    chat = Chat.objects.create(owner=alice)
    assert bob_api.get(f"/api/chats/{chat.pk}/cost/").status_code == 404
