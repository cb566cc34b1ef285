"""A sequence's performance in admin (SPEC Part 2 "Performance and experiments"): summary cards, a
per-step funnel, the paid-within-N-days rates, and each experiment's variants with their intervals.

The numbers are `sequence_performance`'s, the same report the API answers; this module only arranges
them for a person. Charts are drawn by Chart.js, served from this app's static files
(static/outreach_queue/vendor/chartjs, see its README.md); the page hands them their data through
`json_script`, and static/outreach_queue/performance.js draws them.

Support staff work across companies, so the page is scoped by the sequence in its URL (the sequence
names its company), and opening it needs `sequences.view_sequence`.
"""

import uuid
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from outreach_queue.models import ReplyClass, SequencePerformance
from outreach_queue.performance import default_range, sequence_performance
from sequences.models import HOLDOUT_KEY, Sequence

# An arm with fewer emails than this cannot tell a winner (a few payments either way swing its rate):
# the page says so rather than letting a 2-of-5 beat a 30-of-100.
MIN_SAMPLE_PER_ARM = 30
PAID_WITHIN = ("7", "14", "30")
VIEW_PERMISSION = "sequences.view_sequence"


class RangeForm(forms.Form):
    """The page's from/to, as the API reads them: an end left empty takes the selector's default (`to`
    today in the sequence's timezone, `from` 89 days before), and `from` <= `to`. Told on the page."""

    date_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, sequence: Sequence, **kwargs):
        super().__init__(*args, **kwargs)
        self.sequence = sequence

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        cleaned["date_from"], cleaned["date_to"] = default_range(
            sequence=self.sequence, date_from=cleaned.get("date_from"), date_to=cleaned.get("date_to")
        )
        if cleaned["date_from"] > cleaned["date_to"]:
            raise ValidationError(f"“From” must be on or before “To” ({cleaned['date_to']:%d %b %Y}).")
        return cleaned


def _money(amounts: list[dict]) -> list[str]:
    """`[{"currency", "amount"}]` (decimal strings) as "USD 12,345.00", one per currency."""
    return [f"{item['currency']} {Decimal(item['amount']):,.2f}" for item in amounts]


def _percent(rate) -> float | None:
    return None if rate is None else round(float(rate) * 100, 1)


def _sample(variant: dict) -> int:
    # The holdout gets no email (its row is cancelled): its sample is its enrollments.
    return variant["enrollments"] if variant["key"] == HOLDOUT_KEY else variant["sent"]


def _variant_rows(variants: list[dict]) -> list[dict]:
    rows = []
    for variant in variants:
        paid = variant["paid_within_14"]
        low, high = paid.get("interval") or (None, None)
        rows.append(
            {
                **variant,
                "is_holdout": variant["key"] == HOLDOUT_KEY,
                "reply_percent": _percent(variant.get("reply_rate")),
                "paid_count": paid["count"],
                "paid_percent": _percent(paid.get("rate")),
                "low_percent": _percent(low),
                "high_percent": _percent(high),
                "best_percent": _percent(variant.get("probability_best")),
                "too_small": _sample(variant) < MIN_SAMPLE_PER_ARM,
            }
        )
    return rows


def _steps(report: dict) -> list[dict]:
    steps = []
    for index, step in enumerate(report["steps"]):
        paid = {days: step["paid_within"][days] for days in PAID_WITHIN}
        variant_rows = _variant_rows(step.get("variants") or [])
        steps.append(
            {
                **step,
                # A person's answer: an out-of-office is heard, not an answer (as in reply_rate).
                "replied": sum(n for cls, n in step["replies"].items() if cls != ReplyClass.AUTO_REPLY),
                "replies_heard": {cls.replace("_", " "): n for cls, n in step["replies"].items() if n},
                "paid": {
                    days: {**p, "percent": _percent(p["rate"]), "money": _money(p["amounts"])}
                    for days, p in paid.items()
                },
                "variant_rows": variant_rows,
                "small_sample": any(v["too_small"] for v in variant_rows),
                "canvas_id": f"variants-{index}",
            }
        )
    return steps


def _chart_data(steps: list[dict]) -> dict:
    """What performance.js draws, in the order the tables list it (percentages, 1 decimal)."""
    labels = [s["label"] for s in steps]
    return {
        "funnel": {
            "labels": labels,
            "ready": [s["rows"]["ready"] for s in steps],
            "sent": [s["rows"]["sent"] for s in steps],
            "replied": [s["replied"] for s in steps],
            "paid14": [s["paid"]["14"]["count"] for s in steps],
        },
        "paidWithin": {
            "labels": labels,
            **{days: [s["paid"][days]["percent"] for s in steps] for days in PAID_WITHIN},
        },
        "variants": [
            {
                "canvas": s["canvas_id"],
                "step": s["label"],
                "keys": [v["key"] for v in s["variant_rows"]],
                "holdout": [v["is_holdout"] for v in s["variant_rows"]],
                "rates": [v["paid_percent"] for v in s["variant_rows"]],
                "intervals": [[v["low_percent"], v["high_percent"]] for v in s["variant_rows"]],
            }
            for s in steps
            if s["variant_rows"]
        ],
    }


def _has_activity(report: dict) -> bool:
    started = report["enrollments"]["started"]
    return bool(started or any(any(s["rows"].values()) for s in report["steps"]))


@admin.register(SequencePerformance)
class SequencePerformanceAdmin(admin.ModelAdmin):
    """Every sequence, each a link to its performance page; nothing is edited here."""

    list_display = ["name", "company", "status", "performance_link"]
    list_display_links = None
    list_filter = ["status"]
    search_fields = ["name", "company__name"]
    list_select_related = ["company"]
    ordering = ["company__name", "name"]
    show_full_result_count = False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(VIEW_PERMISSION)

    def has_module_permission(self, request):
        # Shown under "Outreach queue" to whoever may view sequences, even with no queue permission.
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Performance")
    def performance_link(self, sequence):
        url = reverse("admin:queue_sequence_performance", args=[sequence.pk])
        return format_html('<a href="{}">Performance and experiments</a>', url)

    def get_urls(self):
        page = self.admin_site.admin_view(self.performance_view)
        # Before the stock patterns: their "<path:object_id>/" would take this one.
        return [
            path("<uuid:sequence_id>/performance/", page, name="queue_sequence_performance"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """A sequence's page here is its performance page (its settings are on the sequence's own)."""
        try:
            sequence_id = uuid.UUID(str(object_id))
        except ValueError:  # the stock answer: no such object
            return super().change_view(request, object_id, form_url, extra_context)
        return HttpResponseRedirect(reverse("admin:queue_sequence_performance", args=[sequence_id]))

    def performance_view(self, request, sequence_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        sequence = get_object_or_404(Sequence.objects.select_related("company"), pk=sequence_id)
        # Unbound (no query), the form is valid with both ends defaulted: bind it to an empty query.
        form = RangeForm(request.GET or {}, sequence=sequence)
        report, start, end = None, None, None
        if form.is_valid():
            start, end = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
            report = sequence_performance(
                company=sequence.company, sequence=sequence, date_from=start, date_to=end
            )
            form = RangeForm(initial={"date_from": start, "date_to": end}, sequence=sequence)  # as shown
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Performance: {sequence.name}",
            "sequence": sequence,
            "form": form,
            "date_from": start,
            "date_to": end,
            "min_sample": MIN_SAMPLE_PER_ARM,
        }
        if report is not None:
            steps = _steps(report)
            context.update(
                report=report,
                steps=steps,
                collected=_money(report["collected"]),
                has_activity=_has_activity(report),
                charts=_chart_data(steps),
            )
        return TemplateResponse(request, "admin/queue/sequenceperformance/performance.html", context)
