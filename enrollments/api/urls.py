from django.urls import path

from enrollments.api import views

urlpatterns = [
    path("sequence-enrollments", views.EnrollmentListCreateView.as_view(), name="enrollment-list"),
    path(
        "sequence-enrollments/<uuid:enrollment_id>",
        views.EnrollmentDetailView.as_view(),
        name="enrollment-detail",
    ),
    path(
        "sequence-enrollments/<uuid:enrollment_id>/events",
        views.EnrollmentEventsView.as_view(),
        name="enrollment-events",
    ),
    path(
        "sequence-enrollments/<uuid:enrollment_id>/stop",
        views.EnrollmentStopView.as_view(),
        name="enrollment-stop",
    ),
    path(
        "sequences/<uuid:sequence_id>/enrollments/bulk",
        views.BulkEnrollView.as_view(),
        name="enrollment-bulk",
    ),
    path(
        "sequences/<uuid:sequence_id>/preview",
        views.SequencePreviewView.as_view(),
        name="sequence-preview",
    ),
]
