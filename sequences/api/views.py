"""Sequence and step endpoints: validate, call one service or selector, serialise."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from daylit.api.base import CompanyScopedAPIView
from daylit.api.query import list_schema
from sequences import selectors, services
from sequences.api.serializers import (
    SequenceActionSerializer,
    SequenceCreateSerializer,
    SequenceFilters,
    SequenceOverviewSerializer,
    SequenceSerializer,
    SequenceSettingsSerializer,
    StepSerializer,
)

DUPLICATE_NAME = OpenApiResponse(
    description="`code` `duplicate_name`: another sequence of this company has this name (compared "
    "case-insensitively)."
)
STEP_HAS_HISTORY = OpenApiResponse(
    description="`code` `step_has_history`: enrollments were already scheduled with this step, so only "
    "`label` and `is_active` may change (not its templates, nor its `variants` or `holdout_percent`); the "
    "detail names the fields that may not."
)
STEP_WRITE_RULES = (
    "Templates (`subject_template`, `body_plain_template`, `body_html_template`) use `{{ ... }}` "
    "variables of the documented context (`customer`, `company`, `invoice` with `payment_url`, `invoices` "
    "and `total_due` (disputed invoices left out), `promise`, `sender`, `enrollment`) and are checked "
    "when saved: one that does not parse or names another "
    "variable is a 400 naming the field. A reminder written only as `instructions` is a 400 while no AI "
    "provider is configured. `offset_days` is 0..3650 days after the anchor (-365..3650 in an `invoice_due` "
    "sequence: before or after the due date; a negative one elsewhere is a 400), `offset_time` `HH:MM` in "
    "the schedule zone. A reminder may run an experiment (docs/variants.md): `variants`, empty or 2..4 "
    "`{key, weight, subject_template, body_plain_template, body_html_template}` (keys unique slugs, never "
    "`holdout`; weights 1..100; each variant's templates checked as the step's are, with a subject and a "
    "body; messages name the item, `Item 1: subject_template: ...`), and `holdout_percent` 0..50. Each "
    "enrollment gets one variant by a deterministic hash of its id and the step's, or the holdout, whose "
    "row is created `cancelled` (`error` `holdout`); a call or task with either is a 400."
)
STEP_UPDATE = (
    "Takes any subset of the create fields; fields left out keep their values. Any member may. Once the "
    "step has history (`has_history`: an enrollment was scheduled with it), only `label` and `is_active` "
    "may change (sending another field with its current value is not a change). Deactivating a step "
    "keeps it out of enrollments made afterwards; rows already scheduled with it still come due. "
    + STEP_WRITE_RULES
)
EXAMPLE_CONNECTION_ID = "8c2f4e61-7a0b-4d93-b5e8-2f16c9a3d740"
CALENDAR_SETTINGS = (
    "The collections calendar: `anchor` `enrollment` (steps count from the enrollment's `start_date`, "
    "default) or `invoice_due` (from the enrollment invoice's `due_date`; steps may then have negative "
    "`offset_days`); `catch_up` `all` (rows already past when enrolling are all due at once, default) or "
    "`latest` (only the latest of them; the earlier ones are created `cancelled`); `send_days`, a non-empty "
    "set of `mon`..`sun` (default all seven, answered in week order); `send_window_start` and "
    "`send_window_end` `HH:MM` or null, both or neither, start before end (a row before the window "
    "moves to its start, one at or after its end to the next allowed day's start); `skip_holidays` "
    "(public holidays of the customer's country and subdivision, else the company's settings, move a row "
    "to the next day); `time_zone_source` `sequence` (default) or `customer` (the customer's `timezone` "
    "when set). They apply to enrollments made afterwards and, for `invoice_due`, to rows re-planned when "
    "a due date changes."
)
ANCHOR_LOCKED = OpenApiResponse(
    description="`code` `duplicate_name`: another sequence of this company has this name (compared "
    "case-insensitively); `sequence_has_enrollments`: `anchor` cannot change once the sequence has "
    "enrollments (their rows were planned from it); duplicate the sequence instead."
)


class SequenceListCreateView(CompanyScopedAPIView):
    serializer_class = SequenceSerializer

    @list_schema(
        SequenceSerializer,
        SequenceFilters,
        summary="List sequences",
        description="The company's sequences, newest first. `status` is a comma list (`draft,active`), "
        "`search` a substring of the name in any case.",
    )
    def get(self, request, company_id):
        filters = self.parse_query(SequenceFilters)
        return self.paginated(
            selectors.sequence_list(company=self.company, filters=filters), SequenceSerializer
        )

    @extend_schema(
        summary="Create a sequence",
        description="Creates a `draft` sequence; any member may. `timezone` (an IANA name, default "
        "`America/New_York`) is where step times are read. `sender_connection_id`, optional, must be an "
        "`active` connection of the company (400 otherwise); it is the default sender of its reminders "
        "and the one `auto_send` uses. `duplicate_from` copies another sequence's steps (new ids, no "
        "history) and every setting the request does not give; a copied sender that is no longer active "
        "is dropped. Add a step and activate the sequence before enrolling. " + CALENDAR_SETTINGS + " Not "
        "idempotent: repeating the name is a 409.",
        request=SequenceCreateSerializer,
        responses={201: SequenceSerializer, 409: DUPLICATE_NAME},
        examples=[
            OpenApiExample(
                "New sequence",
                value={
                    "name": "Net-30 reminders",
                    "timezone": "America/Chicago",
                    "send_followups_in_thread": True,
                    "sender_connection_id": EXAMPLE_CONNECTION_ID,
                },
                request_only=True,
            ),
        ],
    )
    def post(self, request, company_id):
        data = self.parse_body(SequenceCreateSerializer)
        sequence = services.sequence_create(company=self.company, **data)
        return Response(SequenceSerializer(sequence).data, status=status.HTTP_201_CREATED)


class SequenceDetailView(CompanyScopedAPIView):
    serializer_class = SequenceSerializer

    def get_sequence(self):
        return selectors.sequence_get(company=self.company, sequence_id=self.kwargs["sequence_id"])

    @extend_schema(
        summary="Get a sequence",
        description="One sequence of the company with its settings and status; a sequence of another "
        "company is a 404. `sender_connection_status` shows when its sender was revoked or broke.",
        responses=SequenceSerializer,
    )
    def get(self, request, company_id, sequence_id):
        return Response(SequenceSerializer(self.get_sequence()).data)

    @extend_schema(
        summary="Change a sequence's settings",
        description="Changes any of the settings (`name`, `timezone`, `send_followups_in_thread`, "
        "`sender_connection_id`, `auto_send`, `auto_send_generated`, `stop_on_reply`) in any status; "
        "fields left out keep their values. Any member may. Not the status: that moves only through "
        "`POST .../sequences/{sequence_id}` (`action`). A new sender must be an `active` connection of the "
        "company (400 otherwise; null removes it). A new `timezone` applies to enrollments made "
        "afterwards. " + CALENDAR_SETTINGS + " `anchor` cannot change once the sequence has enrollments "
        "(409), nor become `enrollment` while a step has a negative `offset_days` (400). Repeating a PATCH "
        "gives the same result (200).",
        request=SequenceSettingsSerializer,
        responses={200: SequenceSerializer, 409: ANCHOR_LOCKED},
    )
    def patch(self, request, company_id, sequence_id):
        sequence = self.get_sequence()
        data = self.parse_body(SequenceSettingsSerializer, partial=True)
        sequence = services.sequence_update(sequence=sequence, data=data)
        return Response(SequenceSerializer(sequence).data)

    @extend_schema(
        operation_id="companies_sequences_action",
        summary="Activate or archive a sequence",
        description="Moves the sequence through its lifecycle; any member may. `activate`: `draft` or "
        "`archived` -> `active`; it needs at least one active step (409 otherwise); only active sequences "
        "accept enrollments. `archive`: `draft` or `active` -> `archived`; every active enrollment of the "
        "sequence completes (`stop_reason` `sequence_archived`) and their `scheduled` rows are cancelled, "
        "in the same transaction (`ready` rows stay in the queue for a person). Re-activating does not "
        "resume them. Asking for the state the sequence is already in returns it unchanged with 200. Any "
        "other `action` is a 400 field map.",
        request=SequenceActionSerializer,
        responses={
            200: SequenceSerializer,
            409: OpenApiResponse(
                description="`code` `no_active_step`: `activate` on a sequence without an active step; "
                "add or activate a step first."
            ),
        },
        examples=[
            OpenApiExample("Activate", value={"action": "activate"}, request_only=True),
            OpenApiExample("Archive", value={"action": "archive"}, request_only=True),
        ],
    )
    def post(self, request, company_id, sequence_id):
        sequence = self.get_sequence()
        data = self.parse_body(SequenceActionSerializer)
        sequence = services.sequence_apply_action(sequence=sequence, action=data["action"])
        return Response(SequenceSerializer(sequence).data)


class SequenceOverviewView(CompanyScopedAPIView):
    serializer_class = SequenceOverviewSerializer

    @extend_schema(
        summary="Get a sequence with its steps and sender choices",
        description="What a sequence editor shows, in one read: the sequence, all its steps in schedule "
        "order (not paginated; each with `has_history`), the number of its active enrollments, and the "
        "company's `active` email connections it may use as its sender.",
        responses=SequenceOverviewSerializer,
    )
    def get(self, request, company_id, sequence_id):
        sequence = selectors.sequence_get(company=self.company, sequence_id=sequence_id)
        overview = selectors.sequence_overview(sequence=sequence)
        context = {**self.get_serializer_context(), "history_ids": overview.pop("history_ids")}
        return Response(SequenceOverviewSerializer(overview, context=context).data)


class StepListCreateView(CompanyScopedAPIView):
    serializer_class = StepSerializer

    @list_schema(
        StepSerializer,
        summary="List a sequence's steps",
        description="The sequence's steps, active or not, in schedule order: `offset_days`, then "
        "`offset_time`, then creation. `has_history` tells which may no longer change beyond `label` and "
        "`is_active`.",
    )
    def get(self, request, company_id, sequence_id):
        sequence = selectors.sequence_get(company=self.company, sequence_id=sequence_id)
        page = self.paginate_queryset(selectors.step_list(sequence=sequence))
        context = {**self.get_serializer_context(), "history_ids": selectors.step_history_ids(steps=page)}
        return self.get_paginated_response(StepSerializer(page, many=True, context=context).data)

    @extend_schema(
        summary="Add a step to a sequence",
        description="Adds a `reminder` (an email), `call` or `task` (a to-do for a person), due "
        "`offset_days` after an enrollment's start date at `offset_time`; fields left out take their "
        "defaults (`reminder`, `New Step`, day 0, `09:00`, active). Any member may, in any status of the "
        "sequence; the step is scheduled for enrollments made afterwards, not for existing ones. "
        "`instructions` on a reminder ask the AI provider, when one is configured, to draft the email. "
        + STEP_WRITE_RULES
        + " Not idempotent: each call adds a step.",
        request=StepSerializer,
        responses={201: StepSerializer},
        examples=[
            OpenApiExample(
                "Reminder on the day",
                value={
                    "label": "Day 0",
                    "offset_days": 0,
                    "offset_time": "09:00",
                    "subject_template": "Invoice {{ invoice.number }} is due",
                    "body_plain_template": "Hello {{ customer.name }}, {{ invoice.amount_due }} "
                    "{{ invoice.currency }} is due on {{ invoice.due_date }}.",
                },
                request_only=True,
            ),
            OpenApiExample(
                "Call a week later",
                value={
                    "step_type": "call",
                    "label": "Day 7 call",
                    "offset_days": 7,
                    "offset_time": "10:30",
                    "instructions": "Call the AP contact and ask for a payment date.",
                },
                request_only=True,
            ),
        ],
    )
    def post(self, request, company_id, sequence_id):
        sequence = selectors.sequence_get(company=self.company, sequence_id=sequence_id)
        data = self.parse_body(StepSerializer)
        step = services.step_create(sequence=sequence, data=data)
        return Response(StepSerializer(step).data, status=status.HTTP_201_CREATED)


class StepDetailView(CompanyScopedAPIView):
    serializer_class = StepSerializer

    def get_step(self):
        sequence = selectors.sequence_get(company=self.company, sequence_id=self.kwargs["sequence_id"])
        return selectors.step_get(sequence=sequence, step_id=self.kwargs["step_id"])

    def respond(self, step, **kwargs):
        context = {**self.get_serializer_context(), "history_ids": selectors.step_history_ids(steps=[step])}
        return Response(StepSerializer(step, context=context).data, **kwargs)

    @extend_schema(
        summary="Get a step",
        description="One step of the sequence, with `has_history`; a step of another sequence is a 404.",
        responses=StepSerializer,
    )
    def get(self, request, company_id, sequence_id, step_id):
        return self.respond(self.get_step())

    def update_step(self):
        step = self.get_step()
        data = self.parse_body(StepSerializer, partial=True)
        return self.respond(services.step_update(step=step, data=data))

    @extend_schema(
        summary="Update a step (PUT)",
        description='The same as PATCH (the reference\'s "any combination" of fields). ' + STEP_UPDATE,
        request=StepSerializer,
        responses={200: StepSerializer, 409: STEP_HAS_HISTORY},
    )
    def put(self, request, company_id, sequence_id, step_id):
        return self.update_step()

    @extend_schema(
        summary="Update a step",
        description=STEP_UPDATE,
        request=StepSerializer,
        responses={200: StepSerializer, 409: STEP_HAS_HISTORY},
    )
    def patch(self, request, company_id, sequence_id, step_id):
        return self.update_step()

    @extend_schema(
        summary="Delete a step",
        description="Deletes a step that has no history; any member may. A step an enrollment was ever "
        "scheduled with cannot be deleted (409): set `is_active` to false instead.",
        responses={
            204: None,
            409: OpenApiResponse(
                description="`code` `step_has_history`: enrollments were scheduled with this step; "
                "deactivate it instead."
            ),
        },
    )
    def delete(self, request, company_id, sequence_id, step_id):
        services.step_delete(step=self.get_step())
        return Response(status=status.HTTP_204_NO_CONTENT)
