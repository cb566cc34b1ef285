# UUID converters only: "sequences/queue" (the outreach queue's route) can never match a sequence id.
from django.urls import path

from sequences.api import views

urlpatterns = [
    path("sequences", views.SequenceListCreateView.as_view(), name="sequence-list"),
    path("sequences/<uuid:sequence_id>", views.SequenceDetailView.as_view(), name="sequence-detail"),
    path(
        "sequences/<uuid:sequence_id>/overview",
        views.SequenceOverviewView.as_view(),
        name="sequence-overview",
    ),
    path("sequences/<uuid:sequence_id>/steps", views.StepListCreateView.as_view(), name="sequence-step-list"),
    path(
        "sequences/<uuid:sequence_id>/steps/<uuid:step_id>",
        views.StepDetailView.as_view(),
        name="sequence-step-detail",
    ),
]
