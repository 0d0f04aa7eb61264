"""Workspace and template endpoints (API.md §6): validate, call a service or selector, serialise."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_errors import APIError
from workspaces import selectors, services
from workspaces.backends.base import BackendError
from workspaces.models import WorkspaceStatus, WorkspaceTemplate
from workspaces.parameters import ParameterError
from workspaces.serializers import WorkspaceCreateSerializer, WorkspaceSerializer, WorkspaceTemplateSerializer


class ReadOrStaff(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return bool(request.user and request.user.is_authenticated)
        return bool(request.user and request.user.is_staff)


class WorkspaceTemplateViewSet(viewsets.ModelViewSet[WorkspaceTemplate]):
    """Everyone reads templates; only staff write them."""

    permission_classes = [ReadOrStaff]
    serializer_class = WorkspaceTemplateSerializer
    queryset = WorkspaceTemplate.objects.all()
    pagination_class = None
    http_method_names = ["get", "post", "patch", "delete"]


def _workspace_response(workspace: Any, code: int = status.HTTP_200_OK) -> Response:
    return Response(WorkspaceSerializer(workspace).data, status=code)


class WorkspaceListCreateApi(APIView):
    @extend_schema(responses=WorkspaceSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(WorkspaceSerializer(selectors.workspace_list(user=request.user), many=True).data)

    @extend_schema(
        request=WorkspaceCreateSerializer,
        responses={201: WorkspaceSerializer},
        description="Creates the workspace (status `starting`); its startup script runs in the background.",
    )
    def post(self, request: Request) -> Response:
        serializer = WorkspaceCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        template = selectors.template_list().filter(pk=data["template_id"]).first()
        if template is None:
            raise APIError("Template not found.", code="invalid_template", status_code=400)
        try:
            workspace = services.workspace_create(
                owner_id=cast(User, request.user).pk,
                template=template,
                name=data.get("name"),
                parameters=data["parameters"],
            )
        except ParameterError as exc:
            raise APIError(str(exc), code="invalid_parameters", status_code=400, problems=exc.problems) from exc
        except BackendError as exc:
            raise APIError(str(exc), code="workspace_unavailable", status_code=502) from exc
        services.workspace_start_in_background(workspace=workspace, first_start=True)
        return _workspace_response(workspace, status.HTTP_201_CREATED)


class WorkspaceDetailApi(APIView):
    @extend_schema(responses=WorkspaceSerializer)
    def get(self, request: Request, workspace_id: str) -> Response:
        return _workspace_response(selectors.workspace_get(user=request.user, workspace_id=workspace_id))

    @extend_schema(responses={204: None}, description="Soft delete: processes killed, files removed.")
    def delete(self, request: Request, workspace_id: str) -> Response:
        services.workspace_delete(workspace=selectors.workspace_get(user=request.user, workspace_id=workspace_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WorkspaceStartApi(APIView):
    @extend_schema(request=None, responses=WorkspaceSerializer, description="Answers `starting`; runs the script.")
    def post(self, request: Request, workspace_id: str) -> Response:
        workspace = selectors.workspace_get(user=request.user, workspace_id=workspace_id)
        if workspace.status not in (WorkspaceStatus.RUNNING, WorkspaceStatus.STARTING):
            try:
                services.workspace_start_in_background(workspace=workspace, first_start=False)
            except BackendError as exc:
                raise APIError(str(exc), code="workspace_unavailable", status_code=502) from exc
        return _workspace_response(workspace)


class WorkspaceStopApi(APIView):
    @extend_schema(request=None, responses=WorkspaceSerializer, description="Kills its processes; files stay.")
    def post(self, request: Request, workspace_id: str) -> Response:
        workspace = selectors.workspace_get(user=request.user, workspace_id=workspace_id)
        return _workspace_response(services.workspace_stop(workspace=workspace))
