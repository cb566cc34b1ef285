from django.urls import path

from events.api import views, webhook_views

urlpatterns = [
    path("events", views.EventListView.as_view(), name="event-list"),
    path("customers/<uuid:customer_id>/events", views.CustomerEventsView.as_view(), name="customer-events"),
    path("webhook-endpoints", webhook_views.WebhookEndpointListView.as_view(), name="webhook-endpoint-list"),
    path(
        "webhook-endpoints/<uuid:endpoint_id>",
        webhook_views.WebhookEndpointDetailView.as_view(),
        name="webhook-endpoint-detail",
    ),
    path(
        "webhook-endpoints/<uuid:endpoint_id>/rotate-secret",
        webhook_views.WebhookEndpointRotateSecretView.as_view(),
        name="webhook-endpoint-rotate-secret",
    ),
    path(
        "webhook-endpoints/<uuid:endpoint_id>/ping",
        webhook_views.WebhookEndpointPingView.as_view(),
        name="webhook-endpoint-ping",
    ),
    path(
        "webhook-endpoints/<uuid:endpoint_id>/deliveries",
        webhook_views.WebhookEndpointDeliveriesView.as_view(),
        name="webhook-endpoint-deliveries",
    ),
    path(
        "webhook-deliveries/<uuid:delivery_id>/retry",
        webhook_views.WebhookDeliveryRetryView.as_view(),
        name="webhook-delivery-retry",
    ),
]
