from dataclasses import asdict

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
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
    StopInput,
    StopResponse,
)
from enrollments.models import Enrollment
from sequences.models import Sequence

_CONFLICT = OpenApiResponse(description="The sequence is not active.")


class EnrollmentListCreateView(CompanyScopedAPIView):
    """List a company's enrollments (filters sequence_id, customer_id, status) or enroll one customer."""

    serializer_class = EnrollmentSerializer

    @list_schema(EnrollmentSerializer, EnrollmentFilters)
    def get(self, request, company_id):
        filters = self.parse_query(EnrollmentFilters)
        return self.paginated(
            selectors.enrollment_list(company=self.company, filters=filters), EnrollmentSerializer
        )

    @extend_schema(
        request=EnrollInput,
        responses={201: EnrollResponse, 200: EnrollResponse, 409: _CONFLICT},
        description="Enroll a customer. 201 with the new enrollment, or 200 with the customer's existing "
        "active enrollment in this sequence (`created: false`).",
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
    """One enrollment of the company."""

    serializer_class = EnrollmentSerializer

    def get(self, request, company_id, enrollment_id):
        enrollment = get_object_or_404(Enrollment, pk=enrollment_id, company=self.company)
        return Response(EnrollmentSerializer(enrollment).data)


class EnrollmentStopView(CompanyScopedAPIView):
    """Complete an enrollment and cancel its scheduled (not yet ready) steps; repeating it is 200 with 0."""

    serializer_class = StopResponse

    @extend_schema(request=StopInput, responses=StopResponse)
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
    """Enroll 1..10,000 customers into an active sequence; active ones are re-enrolled."""

    serializer_class = BulkEnrollResponse

    @extend_schema(request=BulkEnrollInput, responses={200: BulkEnrollResponse, 409: _CONFLICT})
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
