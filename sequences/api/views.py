"""Sequence and step endpoints: validate, call one service or selector, serialise."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
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

CONFLICT = OpenApiResponse(description='{"detail", "code"}: the request conflicts with the current state.')


class SequenceListCreateView(CompanyScopedAPIView):
    serializer_class = SequenceSerializer

    @list_schema(SequenceSerializer, SequenceFilters)
    def get(self, request, company_id):
        filters = self.parse_query(SequenceFilters)
        return self.paginated(
            selectors.sequence_list(company=self.company, filters=filters), SequenceSerializer
        )

    @extend_schema(request=SequenceCreateSerializer, responses={201: SequenceSerializer, 409: CONFLICT})
    def post(self, request, company_id):
        data = self.parse_body(SequenceCreateSerializer)
        sequence = services.sequence_create(company=self.company, **data)
        return Response(SequenceSerializer(sequence).data, status=status.HTTP_201_CREATED)


class SequenceDetailView(CompanyScopedAPIView):
    serializer_class = SequenceSerializer

    def get_sequence(self):
        return selectors.sequence_get(company=self.company, sequence_id=self.kwargs["sequence_id"])

    @extend_schema(responses=SequenceSerializer)
    def get(self, request, company_id, sequence_id):
        return Response(SequenceSerializer(self.get_sequence()).data)

    @extend_schema(request=SequenceSettingsSerializer, responses={200: SequenceSerializer, 409: CONFLICT})
    def patch(self, request, company_id, sequence_id):
        sequence = self.get_sequence()
        data = self.parse_body(SequenceSettingsSerializer, partial=True)
        sequence = services.sequence_update(sequence=sequence, data=data)
        return Response(SequenceSerializer(sequence).data)

    @extend_schema(
        operation_id="companies_sequences_action",
        request=SequenceActionSerializer,
        responses={200: SequenceSerializer, 409: CONFLICT},
        description="Lifecycle: activate (draft|archived -> active, needs an active step) or archive "
        "(completes active enrollments). Repeating the current state returns 200 unchanged.",
    )
    def post(self, request, company_id, sequence_id):
        sequence = self.get_sequence()
        data = self.parse_body(SequenceActionSerializer)
        sequence = services.sequence_apply_action(sequence=sequence, action=data["action"])
        return Response(SequenceSerializer(sequence).data)


class SequenceOverviewView(CompanyScopedAPIView):
    serializer_class = SequenceOverviewSerializer

    @extend_schema(responses=SequenceOverviewSerializer)
    def get(self, request, company_id, sequence_id):
        sequence = selectors.sequence_get(company=self.company, sequence_id=sequence_id)
        overview = selectors.sequence_overview(sequence=sequence)
        context = {**self.get_serializer_context(), "history_ids": overview.pop("history_ids")}
        return Response(SequenceOverviewSerializer(overview, context=context).data)


class StepListCreateView(CompanyScopedAPIView):
    serializer_class = StepSerializer

    @list_schema(StepSerializer)
    def get(self, request, company_id, sequence_id):
        sequence = selectors.sequence_get(company=self.company, sequence_id=sequence_id)
        page = self.paginate_queryset(selectors.step_list(sequence=sequence))
        context = {**self.get_serializer_context(), "history_ids": selectors.step_history_ids(steps=page)}
        return self.get_paginated_response(StepSerializer(page, many=True, context=context).data)

    @extend_schema(request=StepSerializer, responses={201: StepSerializer})
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

    @extend_schema(responses=StepSerializer)
    def get(self, request, company_id, sequence_id, step_id):
        return self.respond(self.get_step())

    def update_step(self):
        step = self.get_step()
        data = self.parse_body(StepSerializer, partial=True)
        return self.respond(services.step_update(step=step, data=data))

    @extend_schema(
        request=StepSerializer,
        responses={200: StepSerializer, 409: CONFLICT},
        description="Any subset of the create fields. With history only label and is_active may change.",
    )
    def put(self, request, company_id, sequence_id, step_id):
        return self.update_step()

    @extend_schema(
        request=StepSerializer,
        responses={200: StepSerializer, 409: CONFLICT},
        description="Same as PUT: any subset of the create fields.",
    )
    def patch(self, request, company_id, sequence_id, step_id):
        return self.update_step()

    @extend_schema(responses={204: None, 409: CONFLICT})
    def delete(self, request, company_id, sequence_id, step_id):
        services.step_delete(step=self.get_step())
        return Response(status=status.HTTP_204_NO_CONTENT)
