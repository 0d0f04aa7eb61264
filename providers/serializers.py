from __future__ import annotations

from typing import Any

from rest_framework import serializers

from providers.models import ModelConfig, Provider
from providers.options import validate_options


class ProviderSerializer(serializers.ModelSerializer[Provider]):
    api_key = serializers.CharField(
        write_only=True, required=False, allow_blank=True, trim_whitespace=True, style={"input_type": "password"}
    )
    has_api_key = serializers.BooleanField(read_only=True)

    class Meta:
        model = Provider
        fields = ["id", "name", "kind", "base_url", "api_key", "has_api_key", "enabled", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class ModelConfigSerializer(serializers.ModelSerializer[ModelConfig]):
    provider = serializers.PrimaryKeyRelatedField(queryset=Provider.objects.all())
    input_price = serializers.DecimalField(
        max_digits=14, decimal_places=6, min_value=0, allow_null=True, required=False
    )
    output_price = serializers.DecimalField(
        max_digits=14, decimal_places=6, min_value=0, allow_null=True, required=False
    )
    cache_read_price = serializers.DecimalField(
        max_digits=14, decimal_places=6, min_value=0, allow_null=True, required=False
    )
    cache_write_price = serializers.DecimalField(
        max_digits=14, decimal_places=6, min_value=0, allow_null=True, required=False
    )

    class Meta:
        model = ModelConfig
        fields = [
            "id", "provider", "model", "display_name", "enabled", "is_default", "context_limit",
            "max_output_tokens", "compaction_threshold_percent", "options", "input_price",
            "output_price", "cache_read_price", "cache_write_price", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "created_at", "updated_at"]
        # A new default demotes the old one (services.model_config_save) rather than failing.
        extra_kwargs: dict[str, Any] = {"is_default": {"validators": []}}

    def validate_options(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise serializers.ValidationError("Options must be an object.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        provider = attrs.get("provider") or getattr(self.instance, "provider", None)
        options = attrs.get("options", getattr(self.instance, "options", {}))
        if provider is not None:
            try:
                attrs["options"] = validate_options(provider.kind, options)
            except ValueError as exc:
                raise serializers.ValidationError({"options": [str(exc)]}) from None
        return attrs


class CatalogModelSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    model = serializers.CharField()
    display_name = serializers.CharField()
    context_limit = serializers.IntegerField()
    is_default = serializers.BooleanField()


class CatalogProviderSerializer(serializers.Serializer[Any]):
    provider = serializers.CharField()
    kind = serializers.CharField()
    available = serializers.BooleanField()
    unavailable_reason = serializers.CharField(allow_null=True)
    models = CatalogModelSerializer(many=True)


class CatalogSerializer(serializers.Serializer[Any]):
    providers = CatalogProviderSerializer(many=True)
