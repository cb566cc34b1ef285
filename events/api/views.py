"""The event log and the customer timeline: cursor lists, oldest first (events.selectors)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from daylit.api.base import CompanyScopedAPIView
from daylit.models import Customer, Member
from events import selectors
from events.api.serializers import CursorParams, EventFilters, EventPageSerializer
from events.types import WEBHOOK_PING

UNKNOWN_CURSOR = OpenApiResponse(
    description="`code` `unknown_cursor`: `after` is not the id of an event of this company (or it was "
    "purged: events are kept 30 days). Otherwise a field map naming a bad parameter."
)
CURSOR_RULES = (
    'A cursor list, oldest first: `{"data": [...], "has_more": bool}`; pass the last event\'s id as '
    "`after` for the next page, `limit` 1..100 (default 20). An event only shows once every transaction "
    "that started before it has settled, so walking with `after` never skips one. `type` takes a comma "
    "list of event types. Events are kept 30 days."
)


class EventCursorView(CompanyScopedAPIView):
    """Reads cursor parameters and answers one page; subclasses say which events."""

    pagination_class = None
    serializer_class = EventPageSerializer
    params = CursorParams

    def page(self, **scope):
        query = self.parse_query(self.params)
        page = selectors.event_page(
            company=self.company,
            # A ping's data is an endpoint, whose URL may carry a token: endpoints are for admins only.
            exclude_types=None if self.member.role == Member.Role.ADMIN else [WEBHOOK_PING],
            after=query.get("after"),
            limit=query["limit"],
            types=query.get("type"),
            subject_id=query.get("subject_id"),
            **scope,
        )
        return Response(EventPageSerializer(page).data)


class EventListView(EventCursorView):
    params = EventFilters

    @extend_schema(
        summary="List events",
        operation_id="companies_events_list",
        description="Everything that happened in the company: enrollments created and completed, queue "
        "rows ready, sent, failed, cancelled or completed, replies, connection changes, pings. Each "
        "event's `data` is its subject after the change, in the shape the API returns it; `subject_id` "
        "keeps the events of one object. Any member may read them; `webhook.ping` events (their data is "
        "an endpoint) only admins. " + CURSOR_RULES,
        parameters=[EventFilters],
        responses={200: EventPageSerializer, 400: UNKNOWN_CURSOR},
    )
    def get(self, request, company_id):
        return self.page()


class CustomerEventsView(EventCursorView):
    @extend_schema(
        summary="List a customer's events",
        operation_id="companies_customers_events_list",
        description="The customer's timeline: the events of its enrollments and queue rows (and later "
        "its replies, promises and disputes). Any member may read it. " + CURSOR_RULES,
        parameters=[CursorParams],
        responses={200: EventPageSerializer, 400: UNKNOWN_CURSOR},
    )
    def get(self, request, company_id, customer_id):
        customer = get_object_or_404(Customer, pk=customer_id, company=self.company)
        return self.page(customer_id=customer.pk)
