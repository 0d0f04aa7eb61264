from django.urls import path
from rest_framework.routers import SimpleRouter

from providers import apis

router = SimpleRouter()
router.register("admin/providers", apis.ProviderAdminViewSet, basename="admin-provider")
router.register("admin/model-configs", apis.ModelConfigAdminViewSet, basename="admin-model-config")

urlpatterns = [path("models/", apis.ModelCatalogApi.as_view(), name="model-catalog"), *router.urls]
