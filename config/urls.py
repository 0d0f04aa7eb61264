from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

from chats import pages
from chats.selectors import chat_titles
from config import health, metrics
from costs import pages as cost_pages
from costs.apis import CostSummaryApi

api: list[URLPattern | URLResolver] = [
    path("auth/token/", obtain_auth_token, name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("providers.urls")),
    path("", include("chats.urls")),
    path("", include("workspaces.urls")),
    path("", include("costs.urls")),
    # Composed here: costs cannot import chats, so the chat titles are handed in.
    path("costs/summary/", CostSummaryApi.as_view(chat_titles=chat_titles), name="cost-summary"),
]

urlpatterns = [
    path("", pages.index, name="index"),
    path("chats/new/", pages.chat_new, name="chat-new"),
    path("chats/<uuid:chat_id>/", pages.chat_detail, name="chat-page"),
    path("costs/", cost_pages.spend, {"chat_titles": chat_titles}, name="costs"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", include(api)),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
]
