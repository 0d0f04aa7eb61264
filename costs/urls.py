from django.urls import path

from costs import apis

# `costs/summary/` is routed in config/urls.py, which gives it the chat titles.
urlpatterns = [
    path("costs/users/", apis.CostUsersApi.as_view(), name="cost-users"),
    path("usage/", apis.UsageStatusApi.as_view(), name="usage-status"),
    path("admin/usage-limits/", apis.LimitConfigApi.as_view(), name="usage-limits"),
    path("admin/usage-limits/users/<int:user_id>/", apis.UserLimitApi.as_view(), name="usage-limit-user"),
    path("admin/usage-limits/groups/<int:group_id>/", apis.GroupLimitApi.as_view(), name="usage-limit-group"),
]
