"""The queue's sidebar filters beyond plain fields: owner, mailbox, recent failures."""

import datetime

from django.contrib import admin
from django.db.models import Q
from django.utils import timezone

from connections.models import EmailConnection
from daylit.models import Member
from enrollments.models import ScheduledStep

Status = ScheduledStep.Status


class OwnerFilter(admin.SimpleListFilter):
    """The customer's AR owner, read from the row's copy of it (`ar_owner_id`, kept by triggers)."""

    title = "owner"
    parameter_name = "owner"

    def lookups(self, request, model_admin):
        members = Member.objects.select_related("user", "company").order_by("company__name", "user__username")
        return [("none", "No owner")] + [(str(m.pk), f"{m.display_name} ({m.company.name})") for m in members]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(ar_owner_id__isnull=True)
        if self.value():
            return queryset.filter(ar_owner_id=self.value())
        return queryset


class ConnectionFilter(admin.SimpleListFilter):
    """The mailbox a row went out from or, before its first attempt, will go out from (the sequence's
    sender): what support means by "everything from billing@"."""

    title = "email connection"
    parameter_name = "connection"

    def lookups(self, request, model_admin):
        return [(str(c.pk), c.email) for c in EmailConnection.objects.order_by("email")]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(
            Q(sender_connection_id=self.value())
            | Q(sender_connection__isnull=True, sequence__sender_connection_id=self.value())
        )


class TroubleFilter(admin.SimpleListFilter):
    """Rows that need a person: failed recently, or a send that failed and waits to be tried again."""

    title = "trouble"
    parameter_name = "trouble"

    def lookups(self, request, model_admin):
        return [
            ("failed_1d", "Failed in the last day"),
            ("retrying", "Send failed, will retry"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "failed_1d":
            since = timezone.now() - datetime.timedelta(days=1)
            return queryset.filter(status=Status.FAILED, processed_at__gte=since)
        if self.value() == "retrying":
            return queryset.filter(status=Status.READY, attempts__gt=0).exclude(error="")
        return queryset
