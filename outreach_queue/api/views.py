from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
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
_PROMOTES = (
    "Due rows of the company are promoted first (`scheduled` -> `ready`, reminders rendered), so what you "
    "read is current."
)
_FROZEN = (
    "`content_frozen`: a send of this row was already attempted and may have delivered, so its content is "
    "fixed (send it as it is, or cancel it)"
)


class QueueListView(CompanyScopedAPIView):
    serializer_class = QueueRowSerializer

    @list_schema(
        QueueRowSerializer,
        QueueFilters,
        operation_id="companies_sequences_queue_list",
        summary="List the outreach queue",
        description=_PROMOTES + " Then lists one `category`: `ready` (default; due, waiting for a person "
        "or auto-send) and `upcoming` (`scheduled`), both by `scheduled_for`, earliest first; `history` "
        "(`sent`, `failed`, `cancelled`, `completed`), most recently changed first; a row being sent "
        "(`sending`) shows in no category until it settles. Filters: "
        "`step_type`, `sequence_id`, `enrollment_id`, `customer_id`, `ar_owner` (comma list of member ids "
        "and/or `__unassigned__`), and `search`, a substring of the sequence name, step label, customer name "
        "or subject in any case.",
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

    @extend_schema(
        summary="Get a queue row",
        description=_PROMOTES + " For a `ready` reminder the row holds the email exactly as it will be "
        "sent (`to_email`, `subject`, `body_plain`, `body_html`); `error` holds a warning or the reason a "
        "row failed.",
        responses={200: QueueRowSerializer},
    )
    def get(self, request, company_id, row_id):
        services.queue_rows_promote(company=self.company)
        return Response(QueueRowSerializer(self.get_object()).data)

    @extend_schema(
        summary="Edit a ready reminder's email",
        description="Changes any of `subject` (one line, at most 600 characters), `body_plain`, `body_html` "
        "and `to_email` of a `ready` reminder before it goes out; fields left out keep their values. Any "
        "member may. Setting `to_email` clears `error` (the no-recipient warning); writing the subject and "
        "a body of a pending AI draft makes the email the person's own (`generated: false`). Repeating an "
        "edit gives the same row (200); an empty body returns a ready row unchanged.",
        request=QueueRowEditSerializer,
        responses={
            200: _ROW,
            409: OpenApiResponse(
                description="`code` `not_a_reminder`: calls and tasks have no email; `invalid_state`: the "
                "row is not `ready` (not due yet, being sent, or settled); " + _FROZEN + "."
            ),
        },
        examples=[
            OpenApiExample("New subject", value={"subject": "A friendly reminder"}, request_only=True),
            OpenApiExample(
                "Another recipient",
                value={
                    "to_email": "payables@acme.example",
                    "subject": "Invoice INV-1042: a friendly reminder",
                },
                request_only=True,
            ),
        ],
    )
    def patch(self, request, company_id, row_id):
        row = self.get_object()
        data = self.parse_body(QueueRowEditSerializer)
        row = services.queue_row_update(row=row, data=data)
        return Response(QueueRowSerializer(selectors.queue_row_get(company=self.company, row_id=row.pk)).data)


class QueueRowSendView(CompanyScopedAPIView):
    serializer_class = QueueRowSerializer

    @extend_schema(
        summary="Send a ready reminder now",
        description="Sends a `ready` reminder and returns the row after the attempt: `sent` (with "
        "`provider_message_id`), or `failed` with the reason in `error` when the provider refused it for "
        "good (still a 200). From `sender_connection_id` when given, else the sequence's sender; the "
        "connection must be `active` and be the caller's own, the sequence's sender, or shared "
        "(`allow_shared_sending`). The email goes out at most once, whoever sends and however often: a row "
        "already past `ready` (`sending`, `sent`, `failed`, `cancelled`) is returned as it is with 200, so "
        "repeating a send is safe. A failure that may pass puts the row back to `ready` with the reason in "
        "`error` (502/503); retry it, from the same connection: once a send was attempted, the sender, "
        "thread and content are fixed. With `send_followups_in_thread`, a later email of the enrollment "
        "goes out as a reply in the first one's thread with the subject `Re: <first subject>`.",
        request=QueueSendSerializer,
        responses={
            200: _ROW,
            400: OpenApiResponse(
                description="`code` `no_sender`: no `sender_connection_id` and the sequence has no sender; "
                "`no_recipient`: the row has no `to_email` (set it with PATCH). A `sender_connection_id` "
                "that is not a connection of the company is a field map instead."
            ),
            403: OpenApiResponse(
                description="`code` `sender_inactive`: the sender connection is `revoked` or in `error`; "
                "`sender_not_allowed`: it is not yours, not the sequence's sender and not shared."
            ),
            409: OpenApiResponse(
                description="`code` `not_a_reminder`: calls and tasks are completed, not sent; `not_ready`: "
                "the row is still `scheduled`; `draft_pending`: its AI draft is pending or failed (write "
                "the email or regenerate it); `sender_fixed`: an earlier attempt went out from another "
                "connection (omit `sender_connection_id`); `sender_gone`: that connection no longer exists "
                "(cancel the row); `enrollment_paused`: the row's enrollment is paused (resume it first)."
            ),
            502: OpenApiResponse(
                description="`code` `upstream_error`: the provider failed in a way that may pass (5xx, "
                "timeout, connection error, an answer that is not JSON); the row is `ready` again with the "
                "reason in `error`, and a retry is replayed, not sent twice."
            ),
            503: OpenApiResponse(
                description="`code` `rate_limited`: the provider rate-limited the send; the row is "
                "`ready` again. Retry after `Retry-After` seconds (when given)."
            ),
        },
        examples=[
            OpenApiExample("From the sequence sender", value={}, request_only=True),
            OpenApiExample(
                "From a chosen connection",
                value={"sender_connection_id": "8c2f4e61-7a0b-4d93-b5e8-2f16c9a3d740"},
                request_only=True,
            ),
        ],
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

    @extend_schema(
        summary="Cancel a queue row",
        description="Cancels a `scheduled` or `ready` row of any step type, so it is never sent or done; "
        "any member may. When it was the enrollment's last open row, the enrollment completes "
        "(`finished`). Cancelling a cancelled row returns it unchanged with 200.",
        request=None,
        responses={
            200: _ROW,
            409: OpenApiResponse(
                description="`code` `invalid_state`: the row is `sending`, `sent`, `failed` or `completed`."
            ),
        },
    )
    def post(self, request, company_id, row_id):
        row = selectors.queue_row_get(company=self.company, row_id=row_id)
        row = services.queue_row_cancel(row=row)
        return Response(QueueRowSerializer(selectors.queue_row_get(company=self.company, row_id=row.pk)).data)


class QueueRowCompleteView(CompanyScopedAPIView):
    serializer_class = QueueRowSerializer

    @extend_schema(
        summary="Complete a ready call or task",
        description="Marks a `ready` call or task done, with optional `notes` (what was said or agreed); "
        "any member may. When it was the enrollment's last open row, the enrollment completes "
        "(`finished`). Completing a completed row returns it unchanged (its first `notes` stay) with 200.",
        request=QueueCompleteSerializer,
        responses={
            200: _ROW,
            409: OpenApiResponse(
                description="`code` `not_a_call_or_task`: reminders are sent, not completed; "
                "`invalid_state`: the row is `scheduled` (not due yet) or `cancelled`."
            ),
        },
    )
    def post(self, request, company_id, row_id):
        row = selectors.queue_row_get(company=self.company, row_id=row_id)
        data = self.parse_body(QueueCompleteSerializer)
        row = services.queue_row_complete(row=row, notes=data.get("notes", ""))
        return Response(QueueRowSerializer(selectors.queue_row_get(company=self.company, row_id=row.pk)).data)


class QueueRowRegenerateView(CompanyScopedAPIView):
    serializer_class = QueueRowSerializer

    @extend_schema(
        summary="Regenerate a ready reminder's AI draft",
        description="Asks the AI provider for a new draft of a `ready` reminder whose step has "
        "`instructions`, and returns the row: with the new draft (`generated: true`), or, when the provider "
        "refused the request or the draft was rejected (it stated an amount or invoice number not in the "
        "context, was not a valid draft, or its template frame did not render), with its previous content "
        "and the reason in `error` (still a 200). Any member may. "
        "Each call asks for a new draft.",
        request=None,
        responses={
            200: _ROW,
            400: OpenApiResponse(
                description="`code` `generation_not_configured`: no AI provider is configured (`AI_API_KEY`)."
            ),
            409: OpenApiResponse(
                description="`code` `not_a_reminder`: calls and tasks have no email; `invalid_state`: the "
                "row is not `ready`; `no_instructions`: its step has no `instructions`; `variant_row`: the "
                "row is a variant of an experiment, whose wording is the variant's; " + _FROZEN + "."
            ),
            502: OpenApiResponse(
                description="`code` `upstream_error`: the AI provider failed in a way that may pass; the "
                "row keeps its content, with the reason in `error`. Try again."
            ),
            503: OpenApiResponse(
                description="`code` `rate_limited`: the AI provider rate-limited the call; the row keeps "
                "its content. Retry after `Retry-After` seconds (when given)."
            ),
        },
    )
    def post(self, request, company_id, row_id):
        row = selectors.queue_row_get(company=self.company, row_id=row_id)
        row = services.queue_row_regenerate(row=row)
        return Response(QueueRowSerializer(selectors.queue_row_get(company=self.company, row_id=row.pk)).data)
