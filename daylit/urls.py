from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from daylit.health import healthz

company_api = [
    path("", include("daylit.api.urls")),
    path("", include("events.api.urls")),
    path("", include("connections.api.urls")),
    path("", include("sequences.api.urls")),
    path("", include("enrollments.api.urls")),
    path("", include("outreach_queue.api.urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/companies/<uuid:company_id>/", include(company_api)),
    path("api/", include("connections.api.public_urls")),
]

handler400 = "daylit.errors.json_bad_request"
handler404 = "daylit.errors.json_not_found"
handler500 = "daylit.errors.json_server_error"
