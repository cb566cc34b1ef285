from django.urls import path, register_converter

from outreach_queue.api import performance_views, reply_views, views


class EmailConverter:
    """An address in a path (`suppressions/<email>`): anything else is not a route (404)."""

    regex = r"[^/@\s]+@[^/@\s]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(EmailConverter, "email")

urlpatterns = [
    path("replies", reply_views.ReplyListView.as_view(), name="reply-list"),
    path("replies/<uuid:reply_id>", reply_views.ReplyDetailView.as_view(), name="reply-detail"),
    path("replies/<uuid:reply_id>/review", reply_views.ReplyReviewView.as_view(), name="reply-review"),
    path("suppressions", reply_views.SuppressionListView.as_view(), name="suppression-list"),
    path(
        "suppressions/<email:email>", reply_views.SuppressionDetailView.as_view(), name="suppression-detail"
    ),
    path("sequences/queue", views.QueueListView.as_view(), name="queue-list"),
    path(
        "sequences/<uuid:sequence_id>/performance",
        performance_views.SequencePerformanceView.as_view(),
        name="sequence-performance",
    ),
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
