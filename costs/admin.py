"""Django admin: the ledger (read-only), the limit settings and overrides, and a cost report."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone

from costs import selectors
from costs.models import GroupUsageLimit, UsageEntry, UsageLimitConfig, UserUsageLimit

REPORT_DAYS = 30


def _bars(rows: list[dict[str, Any]], label: str) -> list[dict[str, Any]]:
    """Rows with a label, the cost in dollars and a bar width relative to the largest."""
    top = max((row["total_cost_micros"] for row in rows), default=0) or 1
    return [
        {"label": row[label], "dollars": row["total_cost_micros"] / 1_000_000,
         "width": round(100 * row["total_cost_micros"] / top), "steps": row["message_count"]}
        for row in rows
    ]  # fmt: skip


@admin.register(UsageEntry)
class UsageEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "model", "input_tokens", "output_tokens", "cache_read_tokens",
                    "cache_write_tokens", "cost_micros", "root_chat_id")  # fmt: skip
    list_filter = ("model", "provider_name")
    search_fields = ("user__username", "model", "=root_chat_id")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    change_list_template = "admin/costs/usageentry/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        report = self.admin_site.admin_view(self.report_view)
        return [path("report/", report, name="costs_usage_report"), *super().get_urls()]

    def report_view(self, request: HttpRequest) -> HttpResponse:
        end = timezone.now()
        start = end - timedelta(days=REPORT_DAYS)
        rows = selectors.entries(start=start, end=end)
        users = selectors.user_rollup(start=start, end=end, limit=20)["users"]
        totals = selectors.totals(rows)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Costs, last {REPORT_DAYS} days",
            "totals": totals,
            "total_dollars": totals["total_cost_micros"] / 1_000_000,
            "by_user": _bars(users, "username"),
            "by_model": _bars(selectors.by_model(rows), "display_name"),
            "by_day": _bars(selectors.by_day(rows), "day"),
        }
        return TemplateResponse(request, "admin/costs/report.html", context)


@admin.register(UsageLimitConfig)
class UsageLimitConfigAdmin(admin.ModelAdmin):
    list_display = ("__str__", "enabled", "period", "default_limit_micros", "reservation_micros")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not UsageLimitConfig.objects.exists()


@admin.register(UserUsageLimit)
class UserUsageLimitAdmin(admin.ModelAdmin):
    list_display = ("user", "limit_micros", "updated_at")
    autocomplete_fields = ("user",)


@admin.register(GroupUsageLimit)
class GroupUsageLimitAdmin(admin.ModelAdmin):
    list_display = ("group", "limit_micros", "updated_at")
