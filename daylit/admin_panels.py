"""Support panels: read-only tables under a customer's or an enrollment's admin page, so one screen
answers a support question ("why did Acme get this email?", "did they reply?").

An app adds a panel for a model with `@support_panel(Customer, title=..., order=...)` on a function of
the object returning a Panel. Apps register panels for models below them (the queue app registers the
customer's rows and replies), so the lower app's admin shows them without importing upward. Orders in
use: 10 enrollments, 20 upcoming, 30 recent, 40 replies, 50-51 promises and disputes, 60 suppressions,
90 timeline.
"""

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib import admin


@dataclass(frozen=True)
class Panel:
    """A table: `columns` headers, `rows` of cells (text, or safe HTML from format_html), and the
    sentence shown when there are no rows. `more` is an optional (url, label) link to the full list."""

    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    empty: str = "None."
    more: tuple[str, str] | None = None


@dataclass(frozen=True)
class _Registered:
    title: str
    order: int
    build: Callable[[Any], Panel]


_PANELS: dict[type, list[_Registered]] = defaultdict(list)
PANEL_ROWS = 10  # rows per panel: a support screen, not a report


def support_panel(model: type, *, title: str, order: int) -> Callable:
    def register(build: Callable[[Any], Panel]) -> Callable[[Any], Panel]:
        _PANELS[model].append(_Registered(title, order, build))
        _PANELS[model].sort(key=lambda p: p.order)
        return build

    return register


def panels_for(obj: Any) -> list[tuple[str, Panel]]:
    return [(p.title, p.build(obj)) for p in _PANELS[type(obj)]]


class SupportPanelsAdmin(admin.ModelAdmin):
    """A ModelAdmin whose change page shows the registered panels below its fields."""

    change_form_template = "admin/daylit/support_change_form.html"

    def support_title(self, obj) -> str:
        """What the page calls the object (heading, breadcrumbs): a name, where `str()` may be ids."""
        return str(obj)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["support_panels"] = panels_for(obj)
            context["subtitle"] = context["support_title"] = self.support_title(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)
