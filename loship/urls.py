from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from loship import health
from ops import metrics_view
from users.language import switch_language

api_v1 = [
    path("", include("users.api.urls")),
    path("", include("merchants.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("drivers.api.urls")),
    path("", include("notifications.api.urls")),
    path("", include("chat.api.urls")),
    path("", include("webhooks.api.urls")),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("admin/language/", switch_language, name="admin-language"),
    path("admin/ops/", include("ops.urls")),
    path("admin/", admin.site.urls),
    path("metrics", metrics_view.metrics, name="metrics"),
]
# Uploaded photos on the filesystem, served by Django in development only (DEBUG; `static` adds nothing
# otherwise). Production serves them from the bucket or the web server, never from Django.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler400 = "loship.errors.bad_request"
handler404 = "loship.errors.json_not_found"
handler500 = "loship.errors.json_server_error"
