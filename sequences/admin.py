from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from rest_framework.exceptions import ValidationError as ApiValidationError

from connections.models import EmailConnection
from daylit.calendar_codes import is_valid_timezone
from daylit.errors import Conflict
from sequences import services
from sequences.api.serializers import HourMinuteField
from sequences.drafting import step_needs_provider
from sequences.models import Sequence, SequenceStep
from sequences.selectors import steps_with_history
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
        draft = SequenceStep(**{f: cleaned.get(f, getattr(self.instance, f)) for f in services.STEP_FIELDS})
        if not cleaned.get("DELETE") and step_needs_provider(draft):
            self.add_error("instructions", "AI generation is not configured (set AI_API_KEY): add templates.")
        return cleaned


class StepInlineFormSet(forms.BaseInlineFormSet):
    """Steps with history are read-only except label and is_active, and cannot be deleted."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.history_ids = steps_with_history(self.get_queryset().values_list("pk", flat=True))

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
            "auto_send_generated",
            "stop_on_reply",
        ]

    def clean(self):
        cleaned = super().clean()
        sender, company = cleaned.get("sender_connection"), cleaned.get("company") or self.instance.company
        if sender is not None and company is not None and sender.company_id != company.pk:
            self.add_error("sender_connection", "This email connection belongs to another company.")
        elif sender is not None and sender.status != EmailConnection.Status.ACTIVE:
            self.add_error("sender_connection", f"This email connection is not active ({sender.status}).")
        return cleaned

    def clean_timezone(self):
        value = self.cleaned_data["timezone"]
        if not is_valid_timezone(value):
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

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "company"] if obj is not None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        """Writes go through the same services as the API (locks, 409s, duplicate rules)."""
        settings = {f: form.cleaned_data[f] for f in services.COPIED_SETTINGS if f in form.cleaned_data}
        if change:
            changed = {
                f: v
                for f, v in {**settings, "name": form.cleaned_data["name"]}.items()
                if f in form.changed_data
            }
            saved = services.sequence_update(sequence=obj, data=changed)
        else:
            saved = services.sequence_create(company=obj.company, name=form.cleaned_data["name"], **settings)
        # The inline formsets hold `obj`: it must become the saved row.
        obj.pk, obj.created_at, obj.updated_at, obj.status = (
            saved.pk,
            saved.created_at,
            saved.updated_at,
            saved.status,
        )
        obj._state.adding = False

    def save_formset(self, request, form, formset, change):
        """Each step goes through step_create / step_update / step_delete, like the API."""
        # What formset.save() would have recorded, for the admin's change message.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for step_form in formset.forms:
            deleting = step_form.cleaned_data.get("DELETE")
            if not step_form.has_changed() and not deleting:
                continue
            step = step_form.instance
            data = {f: step_form.cleaned_data[f] for f in services.STEP_FIELDS if f in step_form.cleaned_data}
            try:
                if deleting and not step._state.adding:
                    services.step_delete(step=step)
                    formset.deleted_objects.append(step)
                elif not step._state.adding:
                    changed = [f for f in step_form.changed_data if f in data]
                    saved = services.step_update(step=step, data={f: data[f] for f in changed})
                    formset.changed_objects.append((saved, changed))
                elif not deleting:
                    formset.new_objects.append(services.step_create(sequence=form.instance, data=data))
            except (Conflict, ApiValidationError) as exc:
                self.message_user(request, f"Step {data.get('label', '')!r}: {exc.detail}", messages.ERROR)

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
