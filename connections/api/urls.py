from django.urls import path

from connections.api import views

urlpatterns = [
    path("email-connections", views.EmailConnectionListView.as_view(), name="email-connection-list"),
    path(
        "email-connections/nylas/start",
        views.NylasOAuthStartView.as_view(),
        name="email-connection-oauth-start",
    ),
    path(
        "email-connections/<uuid:connection_id>",
        views.EmailConnectionDetailView.as_view(),
        name="email-connection-detail",
    ),
    path(
        "email-connections/<uuid:connection_id>/revoke",
        views.EmailConnectionRevokeView.as_view(),
        name="email-connection-revoke",
    ),
]
