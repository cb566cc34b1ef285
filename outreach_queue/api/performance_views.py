"""A sequence's performance: what its emails collected, per step and per variant."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from daylit.api.base import CompanyScopedAPIView
from outreach_queue.api.performance_serializers import PerformanceQuery, SequencePerformanceSerializer
from outreach_queue.performance import default_range, sequence_performance
from sequences.selectors import sequence_get

DESCRIPTION = (
    "What happened from `from` to `to` (whole days in the sequence's timezone, both included; default "
    "the last 90 days ending today): enrollments started (and of those, how many are active or paused "
    "now) and completed by `stop_reason`; the invoices the sequence chased that were paid in the range "
    "(`collected`, per currency, each invoice once) and the median days from an enrollment's first email "
    "to the payment; per step, its rows by the state they reached in the range (`ready`: became ready, "
    "whatever came after; held-out rows are not `cancelled`), bounces and replies of its emails, and "
    "`paid_within` 7, 14 and 30 days (cumulative) of each email sent in the range, with `rate` = count / "
    "emails sent (null with none). A step with variants or a holdout reports each arm: `paid_within_14` "
    "with its 95% Wilson interval and the Beta-Binomial probability that the arm is best (the holdout "
    "counts from when its email would have gone). Amounts are decimal strings, never summed across "
    "currencies. `from` after `to`, or a date that is not YYYY-MM-DD, is a 400 naming the parameter. "
    "Rules in docs/performance.md. Read-only; any member may."
)


class SequencePerformanceView(CompanyScopedAPIView):
    serializer_class = SequencePerformanceSerializer

    @extend_schema(
        summary="Get a sequence's performance",
        description=DESCRIPTION,
        parameters=[PerformanceQuery],
        responses={200: SequencePerformanceSerializer},
        examples=[
            OpenApiExample(
                "No activity yet",
                response_only=True,
                value={
                    "sequence_id": "5b7c1d9e-3f2a-4c6b-8e1d-0a9f8b7c6d5e",
                    "from": "2026-09-05",
                    "to": "2026-12-03",
                    "enrollments": {"started": 0, "active": 0, "paused": 0, "completed": {}},
                    "collected": [],
                    "median_days_to_pay": None,
                    "steps": [],
                },
            )
        ],
    )
    def get(self, request, company_id, sequence_id):
        sequence = sequence_get(company=self.company, sequence_id=sequence_id)
        query = self.parse_query(PerformanceQuery)
        date_from, date_to = default_range(
            sequence=sequence, date_from=query.get("from"), date_to=query.get("to")
        )
        if date_from > date_to:  # `from` alone, after today
            raise serializers.ValidationError({"from": ["`from` must be on or before `to` (default today)."]})
        data = sequence_performance(
            company=self.company, sequence=sequence, date_from=date_from, date_to=date_to
        )
        return Response(data)
