from django.urls import path

from enrollments.api import pause_views, views

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
        "sequence-enrollments/<uuid:enrollment_id>/pause",
        pause_views.EnrollmentPauseView.as_view(),
        name="enrollment-pause",
    ),
    path(
        "sequence-enrollments/<uuid:enrollment_id>/resume",
        pause_views.EnrollmentResumeView.as_view(),
        name="enrollment-resume",
    ),
    path(
        "customers/<uuid:customer_id>/pause", pause_views.CustomerPauseView.as_view(), name="customer-pause"
    ),
    path(
        "customers/<uuid:customer_id>/resume",
        pause_views.CustomerResumeView.as_view(),
        name="customer-resume",
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
