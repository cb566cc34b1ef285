"""Replies (what customers answered, what it did) and the suppression list."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from daylit.api.base import CompanyScopedAPIView
from daylit.api.query import list_schema
from outreach_queue import selectors
from outreach_queue.api.serializers import (
    ReplyFilters,
    ReplyReviewSerializer,
    ReplySerializer,
    SuppressionCreateSerializer,
    SuppressionSerializer,
)
from outreach_queue.models import Reply, Suppression
from outreach_queue.services.reply_actions import Reading, reply_review
from outreach_queue.services.suppressions import normalized, suppression_create, suppression_delete

ACTIONS = (
    "Actions, on every active or paused enrollment of the customer: `auto_reply` pauses until 00:00 of the "
    "day after `return_date` (or 72 hours after the reply); `promise` with a date records a promise "
    "(`source: reply`) on the thread's invoice, which pauses as any promise does; `dispute` opens a "
    "dispute on the thread's invoice (without one: a pause with no end); `paid_claim`, `question` and "
    "`other` stop (`replied`) the enrollments whose sequence stops on replies; `wrong_contact` and "
    "`unsubscribe` stop them all and suppress the sender's address."
)


class ReplyListView(CompanyScopedAPIView):
    serializer_class = ReplySerializer

    @list_schema(
        ReplySerializer,
        ReplyFilters,
        summary="List replies",
        description="What customers answered, newest first, with how each was read and what it did. "
        "Filters: `classification`, `customer_id`, `reviewed` (true: a person reviewed it).",
    )
    def get(self, request, company_id):
        filters = self.parse_query(ReplyFilters)
        return self.paginated(selectors.reply_list(company=self.company, filters=filters), ReplySerializer)


class ReplyDetailView(CompanyScopedAPIView):
    serializer_class = ReplySerializer

    @extend_schema(
        summary="Get a reply",
        description="One reply of the company: its text (quoted history stripped), how it was read "
        "(`classification`, `confidence`, dates, amount), what it did (`action`) and whether a person "
        "reviewed it. Another company's id is a 404.",
        responses={200: ReplySerializer},
    )
    def get(self, request, company_id, reply_id):
        return Response(ReplySerializer(get_object_or_404(Reply, pk=reply_id, company=self.company)).data)


class ReplyReviewView(CompanyScopedAPIView):
    serializer_class = ReplySerializer

    @extend_schema(
        summary="Review a reply",
        description="A person's correction of how the reply was read. Another `classification` replaces "
        "the action: a pause the old one made is lifted (the enrollments resume, shifted), a promise it "
        "recorded is cancelled, a dispute it opened is withdrawn (resolved `rejected`), a suppression it "
        "added is removed; then the new class acts. Enrollments it stopped stay completed. The same "
        "classification only sets `reviewed_at`. `promise` needs `promised_date` (400). " + ACTIONS,
        request=ReplyReviewSerializer,
        responses={200: ReplySerializer},
    )
    def post(self, request, company_id, reply_id):
        reply = get_object_or_404(Reply, pk=reply_id, company=self.company)
        data = self.parse_body(ReplyReviewSerializer)
        reading = Reading(
            classification=data["classification"],
            return_date=data.get("return_date"),
            promised_date=data.get("promised_date"),
            promised_amount=data.get("promised_amount"),
        )
        return Response(ReplySerializer(reply_review(reply=reply, reading=reading)).data)


class SuppressionListView(CompanyScopedAPIView):
    serializer_class = SuppressionSerializer

    @list_schema(
        SuppressionSerializer,
        summary="List suppressed addresses",
        description="Addresses the company's reminders do not go to, newest first: a reminder to one fails "
        "at promotion (`error` `suppressed: <reason>`) and sending one is 409 `suppressed`. Addresses are "
        "compared case-insensitively (kept lowercased).",
    )
    def get(self, request, company_id):
        return self.paginated(selectors.suppression_list(company=self.company), SuppressionSerializer)

    @extend_schema(
        summary="Suppress an address",
        description="Adds the address (any case; kept lowercased) with `reason` (default `manual`): the "
        "company's reminders to it fail at promotion and sending one is 409 `suppressed`.",
        request=SuppressionCreateSerializer,
        responses={
            201: SuppressionSerializer,
            409: OpenApiResponse(description="`code` `already_suppressed`: the address is on the list."),
        },
    )
    def post(self, request, company_id):
        data = self.parse_body(SuppressionCreateSerializer)
        created = suppression_create(company_id=self.company.pk, email=data["email"], reason=data["reason"])
        return Response(SuppressionSerializer(created).data, status=status.HTTP_201_CREATED)


class SuppressionDetailView(CompanyScopedAPIView):
    serializer_class = SuppressionSerializer

    @extend_schema(
        summary="Get a suppression",
        description="Whether the address is suppressed, and why; any case of it names the same entry. 404 "
        "when it is not.",
        responses={200: SuppressionSerializer},
    )
    def get(self, request, company_id, email):
        found = get_object_or_404(Suppression, company=self.company, email=normalized(email))
        return Response(SuppressionSerializer(found).data)

    @extend_schema(
        summary="Remove a suppression",
        description="The address may be emailed again; any case of it names the same entry. 404 when it "
        "is not suppressed.",
        responses={204: None},
    )
    def delete(self, request, company_id, email):
        suppression_delete(company_id=self.company.pk, email=normalized(email))
        return Response(status=status.HTTP_204_NO_CONTENT)
