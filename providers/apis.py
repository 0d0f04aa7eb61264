"""Provider and model-config administration (staff) and the model catalog (everyone)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from providers import selectors, services
from providers.models import ModelConfig, Provider
from providers.serializers import CatalogSerializer, ModelConfigSerializer, ProviderSerializer


class ProviderAdminViewSet(viewsets.ModelViewSet[Provider]):
    permission_classes = [IsAdminUser]
    serializer_class = ProviderSerializer
    queryset = Provider.objects.all()
    pagination_class = None
    http_method_names = ["get", "post", "patch", "delete"]

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.provider_save(provider=Provider(), **serializer.validated_data)

    def perform_update(self, serializer: Any) -> None:
        services.provider_save(provider=serializer.instance, **serializer.validated_data)


class ModelConfigAdminViewSet(viewsets.ModelViewSet[ModelConfig]):
    permission_classes = [IsAdminUser]
    serializer_class = ModelConfigSerializer
    queryset = ModelConfig.objects.select_related("provider")
    pagination_class = None
    http_method_names = ["get", "post", "patch", "delete"]

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.model_config_save(config=ModelConfig(), **serializer.validated_data)

    def perform_update(self, serializer: Any) -> None:
        services.model_config_save(config=serializer.instance, **serializer.validated_data)


class ModelCatalogApi(APIView):
    @extend_schema(responses=CatalogSerializer)
    def get(self, request: Request) -> Response:
        return Response(selectors.model_catalog())
