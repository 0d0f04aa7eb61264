"""Usage limits (reference §12.3): UTC periods, which limit applies, blocking at the boundary
with the right `resets_at`, the admin and status endpoints, and reservations."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import DatabaseError, transaction
from django.utils import timezone

from chats import services as chat_services
from costs import selectors, services
from costs.errors import UsageLimitExceeded
from costs.models import UsageEntry, UsageLimitConfig, UsageReservation
from costs.periods import period_bounds
from tests.costs.conftest import entry

pytestmark = [pytest.mark.core, pytest.mark.django_db]

WEDNESDAY = datetime(2025, 1, 15, 13, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("period", "now", "start", "end"),
    [
        ("day", WEDNESDAY, datetime(2025, 1, 15, tzinfo=UTC), datetime(2025, 1, 16, tzinfo=UTC)),
        ("week", WEDNESDAY, datetime(2025, 1, 13, tzinfo=UTC), datetime(2025, 1, 20, tzinfo=UTC)),
        (
            "week",
            datetime(2025, 1, 19, 23, 59, tzinfo=UTC),
            datetime(2025, 1, 13, tzinfo=UTC),
            datetime(2025, 1, 20, tzinfo=UTC),
        ),  # Sunday night is still the week that began on Monday
        (
            "week",
            datetime(2025, 1, 20, tzinfo=UTC),
            datetime(2025, 1, 20, tzinfo=UTC),
            datetime(2025, 1, 27, tzinfo=UTC),
        ),
        ("month", WEDNESDAY, datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC)),
        (
            "month",
            datetime(2024, 12, 31, 23, 0, tzinfo=UTC),
            datetime(2024, 12, 1, tzinfo=UTC),
            datetime(2025, 1, 1, tzinfo=UTC),
        ),
        # 01:00 in UTC+2 is still the previous UTC day
        (
            "day",
            datetime(2025, 1, 15, 1, 0, tzinfo=timezone.get_fixed_timezone(120)),
            datetime(2025, 1, 14, tzinfo=UTC),
            datetime(2025, 1, 15, tzinfo=UTC),
        ),
    ],
)
def test_periods_are_utc_weeks_start_on_monday(period: str, now: datetime, start: datetime, end: datetime) -> None:
    assert period_bounds(period, now) == (start, end)


def limits(period: str = "month", default: int = 1000, reservation: int = 0) -> UsageLimitConfig:
    config = services.limit_config_update(enabled=True, period=period, default_limit_micros=default)
    UsageLimitConfig.objects.filter(pk=1).update(reservation_micros=reservation)
    return config


def admit(user: Any) -> None:
    with transaction.atomic():
        services.usage_admit(user_id=user.pk, root_chat_id=uuid.uuid4())


@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_the_limit_blocks_exactly_when_spend_reaches_it_and_says_when_it_resets(
    alice: Any, period: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(timezone, "now", lambda: WEDNESDAY)
    start, end = period_bounds(period, WEDNESDAY)
    limits(period, default=1000)
    UsageEntry.objects.bulk_create(
        [entry(alice, start, cost=999), entry(alice, start - timedelta(seconds=1), cost=5000)]
    )
    admit(alice)  # 999 < 1000: allowed (the row before the period does not count)

    UsageEntry.objects.bulk_create([entry(alice, end - timedelta(seconds=1), cost=1)])
    with pytest.raises(UsageLimitExceeded) as blocked:
        admit(alice)
    body = {"detail": str(blocked.value.detail), **blocked.value.extra}
    assert body == {
        "detail": "Chat usage limit exceeded.",
        "spent_micros": 1000,
        "limit_micros": 1000,
        "resets_at": end.isoformat().replace("+00:00", "Z"),
        "reserved_micros": 0,
    }


def test_user_override_beats_the_lowest_group_which_beats_the_default(alice: Any, bob: Any) -> None:
    limits(default=1000)
    low, high = Group.objects.create(name="low"), Group.objects.create(name="high")
    alice.groups.add(low, high)
    services.group_limit_set(group_id=low.pk, limit_micros=300)
    services.group_limit_set(group_id=high.pk, limit_micros=5000)
    assert selectors.effective_limit(user_id=alice.pk).limit_micros == 300  # type: ignore[union-attr]
    assert selectors.effective_limit(user_id=bob.pk).limit_micros == 1000  # type: ignore[union-attr]
    services.user_limit_set(user_id=alice.pk, limit_micros=9000)
    assert selectors.effective_limit(user_id=alice.pk).limit_micros == 9000  # type: ignore[union-attr]
    services.limit_config_update(enabled=False, period="month", default_limit_micros=0)
    assert selectors.effective_limit(user_id=alice.pk) is None


def test_sending_creating_and_editing_are_refused_with_409_once_spent(
    alice: Any, alice_api: Any, model_config: Any
) -> None:
    chat = chat_services.chat_create(owner=alice, content="first")
    first = chat.messages.filter(role="user").get()
    limits(default=100)
    UsageEntry.objects.bulk_create([entry(alice, timezone.now(), cost=100)])

    for response in (
        alice_api.post("/api/chats/", {"content": "hi"}, format="json"),
        alice_api.post(f"/api/chats/{chat.pk}/messages/", {"content": "more"}, format="json"),
        alice_api.patch(f"/api/chats/{chat.pk}/messages/{first.pk}/", {"content": "edited"}, format="json"),
    ):
        assert response.status_code == 409
        assert response.json()["code"] == "usage_limit" and response.json()["spent_micros"] == 100
    assert chat.messages.filter(role="user").count() == 1  # nothing was written


def test_a_reservation_holds_budget_until_the_turn_records_its_steps(alice: Any) -> None:
    limits(default=1000, reservation=600)
    root = uuid.uuid4()
    with transaction.atomic():
        services.usage_admit(user_id=alice.pk, root_chat_id=root)
    admit(alice)  # nothing spent, 600 held: still under 1000
    with pytest.raises(UsageLimitExceeded) as blocked:
        admit(alice)  # 1200 held: two turns in flight already use the budget
    assert (blocked.value.extra["spent_micros"], blocked.value.extra["reserved_micros"]) == (0, 1200)

    step = {
        "user_id": alice.pk,
        "chat_id": root,
        "root_chat_id": root,
        "message_id": None,
        "model_config": None,
        "tokens": {"input_tokens": 1},
        "pricing": None,
        "usage_raw": None,
    }
    services.usage_record(**step, cost_micros=250, ends_turn=False)
    assert UsageReservation.objects.get(root_chat_id=root).amount_micros == 350  # the step's cost came out of it
    services.usage_record(**step, cost_micros=100, ends_turn=True)
    assert not UsageReservation.objects.filter(root_chat_id=root).exists()  # the turn ended: leftover released
    admit(alice)  # 350 spent + 600 held < 1000


def test_expired_reservations_stop_holding_budget(alice: Any) -> None:
    limits(default=1000, reservation=1000)
    admit(alice)
    with pytest.raises(UsageLimitExceeded):
        admit(alice)
    UsageReservation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    admit(alice)


def test_limits_fail_open_when_they_cannot_be_read(alice: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    limits(default=1)
    UsageEntry.objects.bulk_create([entry(alice, timezone.now(), cost=10)])

    def broken(**kwargs: Any) -> None:
        raise DatabaseError("relation does not exist")

    monkeypatch.setattr(services, "effective_limit", broken)
    admit(alice)


def test_admin_endpoints_configure_limits_and_overrides(alice: Any, staff_api: Any, alice_api: Any) -> None:
    group = Group.objects.create(name="interns")
    alice.groups.add(group)
    assert alice_api.get("/api/admin/usage-limits/").status_code == 403
    assert (
        staff_api.put(
            "/api/admin/usage-limits/", {"enabled": True, "period": "week", "default_limit_micros": 0}, format="json"
        ).status_code
        == 400
    )
    config = staff_api.put(
        "/api/admin/usage-limits/",
        {"enabled": True, "period": "week", "default_limit_micros": 5_000_000},
        format="json",
    ).json()
    assert (config["enabled"], config["period"], config["default_limit_micros"]) == (True, "week", 5_000_000)
    assert (
        staff_api.put(f"/api/admin/usage-limits/users/{alice.pk}/", {"limit_micros": 0}, format="json").status_code
        == 400
    )
    assert staff_api.put(
        f"/api/admin/usage-limits/groups/{group.pk}/", {"limit_micros": 700}, format="json"
    ).json() == {"limit_micros": 700}
    body = staff_api.get("/api/admin/usage-limits/").json()
    assert body["group_overrides"] == [
        {"group_id": group.pk, "name": "interns", "limit_micros": 700, "member_count": 1}
    ]

    status = alice_api.get("/api/usage/").json()
    assert (status["is_limited"], status["period"], status["limit_micros"], status["spent_micros"]) == (
        True,
        "week",
        700,
        0,
    )
    assert staff_api.delete(f"/api/admin/usage-limits/groups/{group.pk}/").status_code == 204
    assert staff_api.delete(f"/api/admin/usage-limits/groups/{group.pk}/").status_code == 404
    assert alice_api.get("/api/usage/").json()["limit_micros"] == 5_000_000
    staff_api.put(
        "/api/admin/usage-limits/", {"enabled": False, "period": "week", "default_limit_micros": 9}, format="json"
    )
    assert alice_api.get("/api/usage/").json() == {
        "is_limited": False,
        "period": None,
        "limit_micros": None,
        "spent_micros": None,
        "period_start": None,
        "period_end": None,
    }
