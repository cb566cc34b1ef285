from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from rest_framework.exceptions import ValidationError as ApiValidationError

from daylit.calendar_codes import WEEKDAYS, is_valid_timezone
from daylit.errors import Conflict
from sequences import services
from sequences.api.serializers import HourMinuteField
from sequences.models import CALENDAR_SETTINGS, Sequence, SequenceStep
from sequences.selectors import steps_with_history
from sequences.templating import template_errors


def _add_service_errors(form: forms.Form, check, **kwargs):
    """Run a service's check and show what it refuses on the form, so a save never fails half-way.
    Returns what the check returned (e.g. the cleaned value), None when it refused."""
    try:
        return check(**kwargs)
    except ApiValidationError as exc:
        for field, field_messages in exc.detail.items():
            field = (
                field.removesuffix("_id") if field.removesuffix("_id") in form.fields else field
            )  # API: x_id
            form.add_error(field if field in form.fields else None, [str(m) for m in field_messages])
    except Conflict as exc:
        form.add_error(None, str(exc.detail))


class StepInlineForm(forms.ModelForm):
    class Meta:
        model = SequenceStep
        fields = services.STEP_FIELDS
        help_texts = {
            "variants": '[] for none, or 2..4 of {"key", "weight" (1..100), "subject_template", '
            '"body_plain_template", "body_html_template"} (docs/variants.md).',
            "holdout_percent": "0..50: that share of enrollments is held out (their row is cancelled).",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Left out of a form, an experiment keeps what the step has (a new step: none).
        for name in ("variants", "holdout_percent"):
            self.fields[name].required = False

    def clean(self):
        cleaned = super().clean()
        for name in ("variants", "holdout_percent"):
            if cleaned.get(name) is None and name not in self.errors:
                cleaned[name] = getattr(self.instance, name)
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
        sequence = getattr(self, "parent_sequence", None)
        if sequence is not None and cleaned.get("offset_days") is not None and not cleaned.get("DELETE"):
            # The parent form's anchor (already applied to the instance) decides, as in the API.
            _add_service_errors(
                self, services.check_offset, sequence=sequence, offset_days=cleaned["offset_days"]
            )
        if getattr(self, "has_history", False) and cleaned.get("DELETE"):
            raise ValidationError("This step has history and cannot be deleted; deactivate it instead.")
        if not cleaned.get("DELETE") and not {"variants", "holdout_percent"} & set(self.errors):
            # The services' own checks, messages and all.
            variants = _add_service_errors(self, services.clean_variants, variants=cleaned["variants"])
            if "variants" not in self.errors:
                cleaned["variants"] = variants  # stored as the API stores them: normalised
                _add_service_errors(
                    self,
                    services.check_experiment,
                    step_type=cleaned.get("step_type") or self.instance.step_type,
                    variants=cleaned["variants"],
                    holdout_percent=cleaned.get("holdout_percent", self.instance.holdout_percent),
                )
        draft = SequenceStep(**{f: cleaned.get(f, getattr(self.instance, f)) for f in services.STEP_FIELDS})
        if not cleaned.get("DELETE"):
            _add_service_errors(self, services.check_generation, step=draft)
        return cleaned


class StepInlineFormSet(forms.BaseInlineFormSet):
    """Steps with history are read-only except label and is_active, and cannot be deleted."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.history_ids = steps_with_history(self.get_queryset().values_list("pk", flat=True))

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        form.has_history = form.instance.pk in self.history_ids
        form.parent_sequence = self.instance
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
            *CALENDAR_SETTINGS,
        ]

    send_days = forms.TypedMultipleChoiceField(
        choices=[(day, day.title()) for day in WEEKDAYS],
        widget=forms.CheckboxSelectMultiple,
        help_text="Days a row may go out, in the sequence's (or customer's) time zone.",
    )

    def clean_send_days(self):
        chosen = set(self.cleaned_data["send_days"])
        return [day for day in WEEKDAYS if day in chosen]

    def clean(self):
        cleaned = super().clean()
        window = {f: cleaned.get(f) for f in ("send_window_start", "send_window_end")}
        if not any(f in self.errors for f in window):
            _add_service_errors(self, services.check_calendar, values=window)
        if self.instance.pk is not None and "anchor" in self.changed_data and cleaned.get("anchor"):
            _add_service_errors(
                self, services.check_anchor_change, sequence=self.instance, anchor=cleaned["anchor"]
            )
        sender, company = cleaned.get("sender_connection"), cleaned.get("company") or self.instance.company
        if sender is not None and company is not None:
            _add_service_errors(self, services.check_sender, connection=sender, company=company)
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
    list_display = [
        "name",
        "company",
        "status",
        "anchor",
        "timezone",
        "auto_send",
        "created_at",
        "performance",
    ]
    list_filter = ["status", "anchor", "skip_holidays"]
    search_fields = ["name"]
    list_select_related = ["company"]
    raw_id_fields = ["company", "sender_connection"]
    readonly_fields = ["status", "performance", "created_at", "updated_at"]
    actions = ["activate", "archive"]
    fieldsets = [
        (None, {"fields": ["company", "name", "status", "performance", "timezone", "sender_connection"]}),
        (
            "Sending",
            {"fields": ["auto_send", "auto_send_generated", "stop_on_reply", "send_followups_in_thread"]},
        ),
        (
            "Collections calendar",
            {
                "fields": list(CALENDAR_SETTINGS),
                "description": "When each row goes out: see docs/calendar.md. The anchor is fixed once "
                "the sequence has enrollments.",
            },
        ),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description="Performance")
    def performance(self, sequence):
        """A link to the sequence's performance page, which the queue app's admin serves: found by URL name,
        since this app never imports the queue app (and without it there is no page to link)."""
        if sequence._state.adding:
            return "—"
        try:
            url = reverse("admin:queue_sequence_performance", args=[sequence.pk])
        except NoReverseMatch:
            return "—"
        return format_html('<a href="{}">Funnel, payments, experiments</a>', url)

    def has_delete_permission(self, request, obj=None):
        # Deleting a sequence would cascade into its enrollments' sent history: archive it instead.
        return False

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
