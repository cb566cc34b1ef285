from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from daylit.api.base import CompanyScopedAPIView
from daylit.api.query import list_schema
from outreach_queue import selectors, services
from outreach_queue.api.serializers import (
    QueueCompleteSerializer,
    QueueFilters,
    QueueRowEditSerializer,
    QueueRowSerializer,
    QueueSendSerializer,
)

_ROW = OpenApiResponse(QueueRowSerializer)
_CONFLICT = OpenApiResponse(description="The row's state does not allow this move.")


class QueueListView(CompanyScopedAPIView):
    serializer_class = QueueRowSerializer

    @list_schema(
        QueueRowSerializer,
        QueueFilters,
        operation_id="companies_sequences_queue_list",
        summary="Get queue",
        description="Promotes the company's due rows, then lists one category (ready, upcoming, history).",
    )
    def get(self, request, company_id):
        filters = self.parse_query(QueueFilters)
        services.queue_rows_promote(company=self.company)
        return self.paginated(
            selectors.queue_row_list(company=self.company, filters=filters), QueueRowSerializer
        )


class QueueRowView(CompanyScopedAPIView):
    serializer_class = QueueRowSerializer

    def get_object(self):
        return selectors.queue_row_get(company=self.company, row_id=self.kwargs["row_id"])

    @extend_schema(responses={200: QueueRowSerializer})
    def get(self, request, company_id, row_id):
        services.queue_rows_promote(company=self.company)
        return Response(QueueRowSerializer(self.get_object()).data)

    @extend_schema(request=QueueRowEditSerializer, responses={200: _ROW, 409: _CONFLICT})
    def patch(self, request, company_id, row_id):
        row = self.get_object()
        data = self.parse_body(QueueRowEditSerializer)
        row = services.queue_row_update(row=row, data=data)
        return Response(QueueRowSerializer(selectors.queue_row_get(company=self.company, row_id=row.pk)).data)


class QueueRowSendView(CompanyScopedAPIView):
    serializer_class = QueueRowSerializer

    @extend_schema(
        request=QueueSendSerializer,
        responses={
            200: _ROW,
            400: OpenApiResponse(description="No sender, or no recipient."),
            403: OpenApiResponse(
                description="The sender connection may not be used by you, or is not active."
            ),
            409: _CONFLICT,
            502: OpenApiResponse(description="Nylas failed in a way that may pass; the row is ready again."),
            503: OpenApiResponse(description="Nylas rate-limited the send; see Retry-After."),
        },
        summary="Send queue step",
    )
    def post(self, request, company_id, row_id):
        row = selectors.queue_row_get(company=self.company, row_id=row_id)
        data = self.parse_body(QueueSendSerializer)
        row = services.queue_row_send(
            row=row, member=self.member, sender_connection=data.get("sender_connection")
        )
        return Response(QueueRowSerializer(selectors.queue_row_get(company=self.company, row_id=row.pk)).data)


class QueueRowCancelView(CompanyScopedAPIView):
    serializer_class = QueueRowSerializer

    @extend_schema(request=None, responses={200: _ROW, 409: _CONFLICT})
    def post(self, request, company_id, row_id):
        row = selectors.queue_row_get(company=self.company, row_id=row_id)
        row = services.queue_row_cancel(row=row)
        return Response(QueueRowSerializer(selectors.queue_row_get(company=self.company, row_id=row.pk)).data)


class QueueRowCompleteView(CompanyScopedAPIView):
    serializer_class = QueueRowSerializer

    @extend_schema(request=QueueCompleteSerializer, responses={200: _ROW, 409: _CONFLICT})
    def post(self, request, company_id, row_id):
        row = selectors.queue_row_get(company=self.company, row_id=row_id)
        data = self.parse_body(QueueCompleteSerializer)
        row = services.queue_row_complete(row=row, notes=data.get("notes", ""))
        return Response(QueueRowSerializer(selectors.queue_row_get(company=self.company, row_id=row.pk)).data)


class QueueRowRegenerateView(CompanyScopedAPIView):
    serializer_class = QueueRowSerializer

    @extend_schema(
        request=None,
        responses={
            200: _ROW,
            400: OpenApiResponse(description="AI generation is not configured."),
            409: _CONFLICT,
            502: OpenApiResponse(description="The AI provider failed in a way that may pass."),
            503: OpenApiResponse(description="The AI provider rate-limited us; see Retry-After."),
        },
        summary="Regenerate the AI draft of a ready reminder",
    )
    def post(self, request, company_id, row_id):
        row = selectors.queue_row_get(company=self.company, row_id=row_id)
        row = services.queue_row_regenerate(row=row)
        return Response(QueueRowSerializer(selectors.queue_row_get(company=self.company, row_id=row.pk)).data)
