from django.contrib import admin

from workspaces.models import Process, Workspace, WorkspaceTemplate


@admin.register(WorkspaceTemplate)
class WorkspaceTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "display_name", "backend", "deprecated", "updated_at"]
    list_filter = ["backend", "deprecated"]
    search_fields = ["name", "display_name"]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "template", "backend", "status", "startup_status", "created_at"]
    list_filter = ["status", "backend", "template"]
    search_fields = ["name", "owner__username", "directory"]
    readonly_fields = ["backend", "backend_settings", "directory", "startup_output", "deleted_at"]


@admin.register(Process)
class ProcessAdmin(admin.ModelAdmin):
    list_display = ["command", "workspace", "chat_id", "pid", "started_at", "exited_at", "exit_code"]
    list_filter = ["exited_at"]
    search_fields = ["command", "chat_id"]
    readonly_fields = ["chat_id", "workspace", "pid", "output_path", "exit_path", "started_at", "exited_at"]
