from django.urls import path

from outreach_queue.api import views

urlpatterns = [
    path("sequences/queue", views.QueueListView.as_view(), name="queue-list"),
    path("sequences/queue/<uuid:row_id>", views.QueueRowView.as_view(), name="queue-row"),
    path("sequences/queue/<uuid:row_id>/send", views.QueueRowSendView.as_view(), name="queue-row-send"),
    path("sequences/queue/<uuid:row_id>/cancel", views.QueueRowCancelView.as_view(), name="queue-row-cancel"),
    path(
        "sequences/queue/<uuid:row_id>/regenerate",
        views.QueueRowRegenerateView.as_view(),
        name="queue-row-regenerate",
    ),
    path(
        "sequences/queue/<uuid:row_id>/complete",
        views.QueueRowCompleteView.as_view(),
        name="queue-row-complete",
    ),
]
