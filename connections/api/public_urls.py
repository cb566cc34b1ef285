"""Routes Nylas (and the browser coming back from Nylas) call: no API token, their own proof."""

from django.urls import path

from connections.api import views

urlpatterns = [
    path("nylas/callback", views.NylasOAuthCallbackView.as_view(), name="nylas-oauth-callback"),
    path("webhooks/nylas", views.NylasWebhookView.as_view(), name="nylas-webhook"),
]
