from django.contrib import admin

from workspaces.models import Workspace, WorkspaceTemplate


@admin.register(WorkspaceTemplate)
class WorkspaceTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "display_name", "backend", "updated_at"]
    search_fields = ["name", "display_name"]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "template", "status", "created_at"]
    list_filter = ["status", "template"]
    search_fields = ["name", "owner__username"]
