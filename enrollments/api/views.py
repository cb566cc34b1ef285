from dataclasses import asdict

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from daylit.api.base import CompanyScopedAPIView
from daylit.api.query import list_schema
from enrollments import selectors, services
from enrollments.api.serializers import (
    BulkEnrollInput,
    BulkEnrollResponse,
    EnrollInput,
    EnrollmentFilters,
    EnrollmentSerializer,
    EnrollResponse,
    PreviewQuery,
    PreviewResponse,
    StopInput,
    StopResponse,
)
from enrollments.models import Enrollment
from events.api.serializers import CursorParams, EventPageSerializer
from events.api.views import CURSOR_RULES, UNKNOWN_CURSOR, EventCursorView
from sequences.models import Sequence

NOT_PLANNABLE = (
    "`code` `no_active_step`: all the sequence's steps are inactive, so an enrollment would have nothing "
    "to schedule; `no_open_invoice`: the sequence is anchored on `invoice_due`, no `invoice_id` was given "
    "and the customer has no open invoice; `cannot_plan`: no send time can be planned from the anchor date "
    "under the sequence's calendar (a date within days of 9999-12-31)."
)
NOT_ENROLLABLE = (
    "`code` `sequence_not_active`: only `active` sequences accept enrollments (this one is `draft` or "
    "`archived`); " + NOT_PLANNABLE.removeprefix("`code` ")
)
CALENDAR = (
    "Each active step gets one queue row, planned in the schedule zone (the customer's `timezone` when the "
    "sequence's `time_zone_source` is `customer` and it is set, else the sequence's; recorded as the "
    "enrollment's `time_zone`): the anchor date (`start_date`, or with `anchor: invoice_due` the "
    "invoice's `due_date`) + `offset_days`, moved to the next day while that day is not in `send_days` "
    "or (with `skip_holidays`) is a public holiday of the customer's country/subdivision (else the "
    "company's); at `offset_time`, moved to the window's start when before `send_window_start`, and to "
    "the next allowed day's start when at or after `send_window_end`. A time skipped by a DST change "
    "moves forward by the gap; an ambiguous one takes its first occurrence. `schedule_note` on the row "
    "says what moved it. `start_date` defaults to today in the schedule zone. Rows whose time has "
    "already passed are due at once (`catch_up: all`), or only the latest of them is and the earlier "
    "ones are created `cancelled` with `error` `skipped: already past when enrolled` (`catch_up: latest`)."
)
SCHEDULING = CALENDAR


class EnrollmentListCreateView(CompanyScopedAPIView):
    """GET lists, POST enrolls one customer (services.enrollment_create decides races)."""

    serializer_class = EnrollmentSerializer

    @list_schema(
        EnrollmentSerializer,
        EnrollmentFilters,
        summary="List enrollments",
        description="The company's enrollments, newest first. Filters: `sequence_id`, `customer_id`, and "
        "`status` as a comma list (`active,completed`).",
    )
    def get(self, request, company_id):
        filters = self.parse_query(EnrollmentFilters)
        return self.paginated(
            selectors.enrollment_list(company=self.company, filters=filters), EnrollmentSerializer
        )

    @extend_schema(
        summary="Enroll a customer in a sequence",
        description="Starts the sequence for one customer; any member may. " + SCHEDULING + " `invoice_id`, "
        "optional, must be an open invoice of that customer (400 otherwise): the emails chase it, and "
        "paying it stops the enrollment. An `invoice_due` sequence needs one: without `invoice_id` the "
        "enrollment takes the customer's open invoice with the earliest due date (409 `no_open_invoice` "
        "when there is none), and changing that invoice's `due_date` later re-plans the `scheduled` rows. "
        "A customer has at most one active enrollment per sequence, also "
        "under concurrent requests: when one exists, the answer is 200 with `created: false` and that "
        "enrollment as it is (the request's `invoice_id` and `start_date` are not applied); otherwise 201 "
        "with `created: true`. So repeating an enroll is safe.",
        request=EnrollInput,
        responses={
            201: EnrollResponse,
            200: EnrollResponse,
            409: OpenApiResponse(
                description=NOT_ENROLLABLE + " Rarely `enrollment_contention`: the customer's enrollment "
                "kept being stopped and created by other requests; try again."
            ),
        },
        examples=[
            OpenApiExample(
                "Enroll for one invoice",
                value={
                    "sequence_id": "3d9a7f20-6b1c-4e85-a4f2-9c07b1e5d382",
                    "customer_id": "0f8d6a52-9c1e-4b7f-8e23-41d5a9c07e6b",
                    "invoice_id": "c41e9b07-2d5f-4a68-8b3e-7f90a6d1e254",
                    "start_date": "2025-06-02",
                },
                request_only=True,
            ),
            OpenApiExample(
                "Enroll starting today",
                value={
                    "sequence_id": "3d9a7f20-6b1c-4e85-a4f2-9c07b1e5d382",
                    "customer_id": "0f8d6a52-9c1e-4b7f-8e23-41d5a9c07e6b",
                },
                request_only=True,
            ),
        ],
    )
    def post(self, request, company_id):
        data = self.parse_body(EnrollInput)
        enrollment, created = services.enrollment_create(
            sequence=data["sequence_id"],
            customer=data["customer_id"],
            invoice=data.get("invoice_id"),
            start_date=data.get("start_date"),
            created_by=self.member,
        )
        body = {"created": created, "enrollment": EnrollmentSerializer(enrollment).data}
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class EnrollmentDetailView(CompanyScopedAPIView):
    serializer_class = EnrollmentSerializer

    @extend_schema(
        summary="Get an enrollment",
        description="One enrollment of the company; an enrollment of another company is a 404. A completed "
        "one says why in `stop_reason` (`finished`, `stopped` or the reason given, `re_enrolled`, "
        "`sequence_archived`, `paid`, `replied`, `bounced`).",
        responses={200: EnrollmentSerializer},
    )
    def get(self, request, company_id, enrollment_id):
        enrollment = get_object_or_404(Enrollment, pk=enrollment_id, company=self.company)
        return Response(EnrollmentSerializer(enrollment).data)


class EnrollmentStopView(CompanyScopedAPIView):
    """One conditional UPDATE completes it, so of two concurrent stops one reports the cancelled rows."""

    serializer_class = StopResponse

    @extend_schema(
        summary="Stop an enrollment",
        description="Completes an active enrollment with `stop_reason` as given (free text, at most 200 "
        "characters; empty or left out: `stopped`) and cancels its `scheduled` rows; its `ready` rows stay "
        "in the queue for a person to send or cancel. Any member may. The answer counts the rows "
        "cancelled. Stopping a completed enrollment returns it unchanged (its first `stop_reason` stays) "
        "with 200 and `cancelled_scheduled_steps: 0`.",
        request=StopInput,
        responses=StopResponse,
    )
    def post(self, request, company_id, enrollment_id):
        enrollment = get_object_or_404(Enrollment, pk=enrollment_id, company=self.company)
        data = self.parse_body(StopInput)
        enrollment, cancelled = services.enrollment_stop(
            enrollment=enrollment, reason=data.get("stop_reason")
        )
        return Response(
            {"enrollment": EnrollmentSerializer(enrollment).data, "cancelled_scheduled_steps": cancelled}
        )


class BulkEnrollView(CompanyScopedAPIView):
    """Set-based (services.enrollments_bulk_create): a fixed number of queries for up to 10,000 ids."""

    serializer_class = BulkEnrollResponse

    @extend_schema(
        summary="Enroll many customers in a sequence",
        description="Enrolls 1..10,000 `customer_ids` at once, all with the same `start_date`; any member "
        "may. " + SCHEDULING + " With `anchor: enrollment` no invoice is recorded; with `invoice_due` each "
        "customer's open invoice with the earliest due date is, and customers with none are skipped "
        "(counted in `skipped_count` and `no_open_invoice_count`). Duplicate ids count once; ids that are "
        "not customers of the company are skipped (`skipped_count`), not an error. A customer already active "
        "in this sequence is re-enrolled: the old enrollment completes (`stop_reason` `re_enrolled`), its "
        "`scheduled` rows are cancelled and a new enrollment starts (`updated_count`); the others count in "
        "`enrolled_count`. So repeating a bulk enroll restarts the same customers. Answers 200, also when "
        "it created enrollments.",
        request=BulkEnrollInput,
        responses={200: BulkEnrollResponse, 409: OpenApiResponse(description=NOT_ENROLLABLE)},
    )
    def post(self, request, company_id, sequence_id):
        sequence = get_object_or_404(Sequence, pk=sequence_id, company=self.company)
        data = self.parse_body(BulkEnrollInput)
        result = services.enrollments_bulk_create(
            sequence=sequence,
            customer_ids=data["customer_ids"],
            start_date=data.get("start_date"),
            created_by=self.member,
        )
        return Response(BulkEnrollResponse(asdict(result)).data)


class EnrollmentEventsView(EventCursorView):
    @extend_schema(
        summary="List an enrollment's events",
        operation_id="companies_sequence_enrollments_events_list",
        description="The enrollment's timeline: its own events (created, completed) and those of its "
        "queue rows (ready, sent, failed, cancelled, completed). Any member may read it. " + CURSOR_RULES,
        parameters=[CursorParams],
        responses={200: EventPageSerializer, 400: UNKNOWN_CURSOR},
    )
    def get(self, request, company_id, enrollment_id):
        enrollment = get_object_or_404(Enrollment, pk=enrollment_id, company=self.company)
        return self.page(enrollment_id=enrollment.pk)


class SequencePreviewView(CompanyScopedAPIView):
    serializer_class = PreviewResponse

    @extend_schema(
        summary="Preview a customer's schedule in a sequence",
        description="What enrolling `customer_id` now would plan, row by row, computed by the same code as "
        "enrolling and writing nothing; any member may, in any status of the sequence (a `draft` is "
        "previewed before it goes live). " + CALENDAR + " `invoice_id` and `start_date` are taken as "
        "enrolling takes them. Each row gives its UTC `scheduled_for`, the same instant on the wall clock "
        "of its `time_zone` (`local_time`), the `schedule_note` saying what moved it, whether it would be "
        "due at once (`due_now`), and whether `catch_up: latest` would create it `cancelled` (`skipped`). "
        "A customer already active in the sequence is previewed all the same (enrolling would answer the "
        "existing enrollment).",
        parameters=[PreviewQuery],
        responses={200: PreviewResponse, 409: OpenApiResponse(description=NOT_PLANNABLE)},
    )
    def get(self, request, company_id, sequence_id):
        sequence = get_object_or_404(Sequence, pk=sequence_id, company=self.company)
        query = self.parse_query(PreviewQuery)
        rows = selectors.enrollment_preview(
            sequence=sequence,
            customer=query["customer_id"],
            invoice=query.get("invoice_id"),
            start_date=query.get("start_date"),
        )
        return Response(PreviewResponse({"data": [asdict(row) for row in rows]}).data)
