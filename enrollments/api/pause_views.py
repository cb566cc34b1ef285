"""Pause and resume: one enrollment, or all of a customer's (enrollments.pausing does the work)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from daylit.api.base import CompanyScopedAPIView
from daylit.models import Customer
from enrollments import pausing
from enrollments.api.serializers import (
    EnrollmentSerializer,
    PausedCount,
    PauseInput,
    ResumedCount,
    ResumeInput,
)
from enrollments.models import Enrollment

PAUSED_MEANS = (
    "While paused, the enrollment's `scheduled` rows are not promoted, its `ready` reminders are not "
    "auto-sent and a person's send is 409 `enrollment_paused`; editing, cancelling and completing rows "
    "still work. "
)
SHIFT = (
    "With `shift` (default true) every `scheduled` row moves later by exactly the time the enrollment was "
    "paused, and only when that instant falls outside the sequence's send days, window or holidays is it "
    "moved on as planning would (the row's `schedule_note` says so); `shift: false` keeps the planned "
    "times, and rows whose time has passed are due at once. "
)
COMPLETED = OpenApiResponse(
    description="`code` `enrollment_completed`: the enrollment is completed and cannot be paused or resumed."
)


class EnrollmentPauseView(CompanyScopedAPIView):
    serializer_class = EnrollmentSerializer

    @extend_schema(
        summary="Pause an enrollment",
        description=PAUSED_MEANS + "`until` (optional): a date means 00:00 that day in the enrollment's "
        "`time_zone`; a time already past is 400. Beat resumes it (with shift) within about a minute of "
        "`until`; without one it stays paused until resumed. Pausing a paused enrollment changes `until` "
        "and `reason` (it stays paused since it first was). Any member may.",
        request=PauseInput,
        responses={200: EnrollmentSerializer, 409: COMPLETED},
    )
    def post(self, request, company_id, enrollment_id):
        enrollment = get_object_or_404(Enrollment, pk=enrollment_id, company=self.company)
        data = self.parse_body(PauseInput)
        paused = pausing.enrollment_pause(
            enrollment=enrollment, until=data.get("until"), reason=data.get("reason")
        )
        return Response(EnrollmentSerializer(paused).data)


class EnrollmentResumeView(CompanyScopedAPIView):
    serializer_class = EnrollmentSerializer

    @extend_schema(
        summary="Resume an enrollment",
        description=SHIFT + "Resuming an active enrollment returns it unchanged. Any member may.",
        request=ResumeInput,
        responses={200: EnrollmentSerializer, 409: COMPLETED},
    )
    def post(self, request, company_id, enrollment_id):
        enrollment = get_object_or_404(Enrollment, pk=enrollment_id, company=self.company)
        data = self.parse_body(ResumeInput)
        resumed = pausing.enrollment_resume(enrollment=enrollment, shift=data["shift"])
        return Response(EnrollmentSerializer(resumed).data)


class CustomerPauseView(CompanyScopedAPIView):
    serializer_class = PausedCount

    @extend_schema(
        summary="Pause all of a customer's enrollments",
        description="Pauses every active enrollment of the customer, in any sequence, with the same "
        "`until` (a date is 00:00 in each enrollment's own `time_zone`) and `reason`; enrollments already "
        "paused keep their own pause. " + PAUSED_MEANS + "Any member may.",
        request=PauseInput,
        responses={200: PausedCount},
    )
    def post(self, request, company_id, customer_id):
        customer = get_object_or_404(Customer, pk=customer_id, company=self.company)
        data = self.parse_body(PauseInput)
        count = pausing.customer_enrollments_pause(
            customer=customer, until=data.get("until"), reason=data.get("reason")
        )
        return Response({"paused_count": count})


class CustomerResumeView(CompanyScopedAPIView):
    serializer_class = ResumedCount

    @extend_schema(
        summary="Resume all of a customer's enrollments",
        description="Resumes every paused enrollment of the customer, whatever paused it (a person, a "
        "promise to pay, a dispute). " + SHIFT + "Any member may.",
        request=ResumeInput,
        responses={200: ResumedCount},
    )
    def post(self, request, company_id, customer_id):
        customer = get_object_or_404(Customer, pk=customer_id, company=self.company)
        data = self.parse_body(ResumeInput)
        return Response(
            {"resumed_count": pausing.customer_enrollments_resume(customer=customer, shift=data["shift"])}
        )
