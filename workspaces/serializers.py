from __future__ import annotations

from typing import Any

from rest_framework import serializers

from workspaces.models import Backend, Workspace, WorkspaceStatus, WorkspaceTemplate
from workspaces.parameters import definition_problems


class WorkspaceTemplateSerializer(serializers.ModelSerializer[WorkspaceTemplate]):
    backend = serializers.ChoiceField(choices=Backend.choices, default=Backend.LOCAL)

    class Meta:
        model = WorkspaceTemplate
        fields = [
            "id", "name", "display_name", "description", "backend", "parameters", "startup_script", "settings",
            "startup_timeout_seconds", "deprecated", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate_parameters(self, value: Any) -> Any:
        problems = definition_problems(value)
        if problems:
            raise serializers.ValidationError(problems)
        return value

    def validate_settings(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise serializers.ValidationError("settings must be an object")
        return value


class WorkspaceSerializer(serializers.ModelSerializer[Workspace]):
    template_id = serializers.UUIDField(allow_null=True, read_only=True)
    status = serializers.ChoiceField(choices=WorkspaceStatus.choices, read_only=True)

    class Meta:
        model = Workspace
        fields = ["id", "name", "template_id", "status", "directory", "created_at"]
        read_only_fields = fields


class WorkspaceCreateSerializer(serializers.Serializer[Any]):
    template_id = serializers.UUIDField()
    name = serializers.CharField(required=False, max_length=100)
    parameters = serializers.DictField(required=False, default=dict)
