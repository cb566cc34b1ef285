from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from daylit.errors import Conflict
from sequences import hooks, services
from sequences.api.serializers import HourMinuteField
from sequences.models import Sequence, SequenceStep
from sequences.templating import template_errors


class StepInlineForm(forms.ModelForm):
    class Meta:
        model = SequenceStep
        fields = services.STEP_FIELDS

    def clean(self):
        cleaned = super().clean()
        errors = template_errors(
            subject=cleaned.get("subject_template") or "",
            body_plain=cleaned.get("body_plain_template") or "",
            body_html=cleaned.get("body_html_template") or "",
        )
        for field, field_messages in errors.items():
            self.add_error(field, field_messages)
        if cleaned.get("offset_time") and (
            cleaned["offset_time"].second or cleaned["offset_time"].microsecond
        ):
            self.add_error("offset_time", HourMinuteField.default_error_messages["invalid"])
        if getattr(self, "has_history", False) and cleaned.get("DELETE"):
            raise ValidationError("This step has history and cannot be deleted; deactivate it instead.")
        return cleaned


class StepInlineFormSet(forms.BaseInlineFormSet):
    """Steps with history are read-only except label and is_active, and cannot be deleted."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.history_ids = hooks.steps_with_history(self.get_queryset().values_list("pk", flat=True))

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        form.has_history = form.instance.pk in self.history_ids
        if form.has_history:
            for name, field in form.fields.items():
                if name in services.STEP_FIELDS and name not in services.HISTORY_SAFE_FIELDS:
                    field.disabled = True
        return form


class StepInline(admin.TabularInline):
    model = SequenceStep
    form = StepInlineForm
    formset = StepInlineFormSet
    extra = 0
    fields = [*services.STEP_FIELDS]
    ordering = ["offset_days", "offset_time", "created_at"]


class SequenceAdminForm(forms.ModelForm):
    class Meta:
        model = Sequence
        fields = [
            "company",
            "name",
            "timezone",
            "send_followups_in_thread",
            "sender_connection",
            "auto_send",
            "stop_on_reply",
        ]

    def clean_timezone(self):
        value = self.cleaned_data["timezone"]
        if not services.is_valid_timezone(value):
            raise ValidationError(f"'{value}' is not a valid IANA timezone.")
        return value


@admin.register(Sequence)
class SequenceAdmin(admin.ModelAdmin):
    form = SequenceAdminForm
    inlines = [StepInline]
    list_display = ["name", "company", "status", "timezone", "auto_send", "created_at"]
    list_filter = ["status"]
    search_fields = ["name"]
    list_select_related = ["company"]
    raw_id_fields = ["company", "sender_connection"]
    readonly_fields = ["status", "created_at", "updated_at"]
    actions = ["activate", "archive"]

    def _apply(self, request, queryset, action: str) -> None:
        # Same service as the API, so the same rules (active step needed, archive completes enrollments).
        done = 0
        for sequence in queryset:
            try:
                services.sequence_apply_action(sequence=sequence, action=action)
                done += 1
            except Conflict as exc:
                self.message_user(request, f"{sequence.name}: {exc.detail}", messages.ERROR)
        self.message_user(request, f"{action}: {done} sequence(s) done.")

    @admin.action(description="Activate selected sequences")
    def activate(self, request, queryset):
        self._apply(request, queryset, services.ACTION_ACTIVATE)

    @admin.action(description="Archive selected sequences")
    def archive(self, request, queryset):
        self._apply(request, queryset, services.ACTION_ARCHIVE)
