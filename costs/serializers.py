"""Query and body shapes of the cost and limit endpoints (API.md §7)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from costs.models import Period

DEFAULT_RANGE = timedelta(days=30)


class RangeQuerySerializer(serializers.Serializer[Any]):
    """[start, end); by default the last 30 days."""

    start = serializers.DateTimeField(required=False)
    end = serializers.DateTimeField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        end = attrs.get("end") or timezone.now()
        start = attrs.get("start") or end - DEFAULT_RANGE
        if start >= end:
            raise serializers.ValidationError({"start": "start must be before end."})
        return {**attrs, "start": start, "end": end}


class SummaryQuerySerializer(RangeQuerySerializer):
    user = serializers.IntegerField(required=False, min_value=1, help_text="Staff only: another user's id.")


class UsersQuerySerializer(RangeQuerySerializer):
    q = serializers.CharField(required=False, default="", allow_blank=True)
    limit = serializers.IntegerField(required=False, default=10, min_value=1, max_value=200)
    offset = serializers.IntegerField(required=False, default=0, min_value=0)


class TotalsSerializer(serializers.Serializer[Any]):
    total_cost_micros = serializers.IntegerField()
    total_input_tokens = serializers.IntegerField()
    total_output_tokens = serializers.IntegerField()
    total_reasoning_tokens = serializers.IntegerField()
    total_cache_read_tokens = serializers.IntegerField()
    total_cache_write_tokens = serializers.IntegerField()


class GroupTotalsSerializer(TotalsSerializer):
    message_count = serializers.IntegerField(help_text="Steps that reported any tokens.")


class ByModelSerializer(GroupTotalsSerializer):
    model_config_id = serializers.IntegerField(allow_null=True)
    display_name = serializers.CharField()
    provider = serializers.CharField()
    model = serializers.CharField()


class ByChatSerializer(GroupTotalsSerializer):
    root_chat_id = serializers.UUIDField()
    chat_title = serializers.CharField(allow_null=True)


class UsageStatusSerializer(serializers.Serializer[Any]):
    is_limited = serializers.BooleanField()
    period = serializers.ChoiceField(choices=Period.choices, allow_null=True)
    limit_micros = serializers.IntegerField(allow_null=True)
    spent_micros = serializers.IntegerField(allow_null=True)
    period_start = serializers.DateTimeField(allow_null=True)
    period_end = serializers.DateTimeField(allow_null=True)


class CountsSerializer(TotalsSerializer):
    priced_message_count = serializers.IntegerField()
    unpriced_message_count = serializers.IntegerField(help_text="Steps with tokens but no price.")


class SummarySerializer(CountsSerializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    by_model = ByModelSerializer(many=True)
    by_chat = ByChatSerializer(many=True, help_text="Chat trees (sub-agents roll up), the 100 most expensive.")
    usage_limit = UsageStatusSerializer()


class ChatCostSerializer(CountsSerializer):
    root_chat_id = serializers.UUIDField()
    by_model = ByModelSerializer(many=True)


class UserRowSerializer(GroupTotalsSerializer):
    user_id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()
    chat_count = serializers.IntegerField(help_text="Distinct chat trees.")


class UsersSerializer(serializers.Serializer[Any]):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    count = serializers.IntegerField()
    users = UserRowSerializer(many=True)


class LimitConfigSerializer(serializers.Serializer[Any]):
    enabled = serializers.BooleanField()
    period = serializers.ChoiceField(choices=Period.choices)
    default_limit_micros = serializers.IntegerField(min_value=0)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["enabled"] and attrs["default_limit_micros"] <= 0:
            raise serializers.ValidationError({"default_limit_micros": "Must be > 0 while limits are enabled."})
        return attrs


class OverrideSerializer(serializers.Serializer[Any]):
    limit_micros = serializers.IntegerField(min_value=1)


class UserOverrideSerializer(OverrideSerializer):
    user_id = serializers.IntegerField()
    username = serializers.CharField()


class GroupOverrideSerializer(OverrideSerializer):
    group_id = serializers.IntegerField()
    name = serializers.CharField()
    member_count = serializers.IntegerField()


class LimitAdminSerializer(LimitConfigSerializer):
    unpriced_model_count = serializers.IntegerField(help_text="Enabled models with no input and no output price.")
    user_overrides = UserOverrideSerializer(many=True)
    group_overrides = GroupOverrideSerializer(many=True)
