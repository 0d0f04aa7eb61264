from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from workspaces import apis

router = SimpleRouter()
router.register("workspace-templates", apis.WorkspaceTemplateViewSet, basename="workspace-template")

urlpatterns: list[URLPattern | URLResolver] = [
    path("workspaces/", apis.WorkspaceListCreateApi.as_view(), name="workspace-list"),
    path("workspaces/<uuid:workspace_id>/", apis.WorkspaceDetailApi.as_view(), name="workspace-detail"),
    path("workspaces/<uuid:workspace_id>/start/", apis.WorkspaceStartApi.as_view(), name="workspace-start"),
    path("workspaces/<uuid:workspace_id>/stop/", apis.WorkspaceStopApi.as_view(), name="workspace-stop"),
    *router.urls,
]
