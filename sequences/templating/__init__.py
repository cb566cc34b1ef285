"""Step templates: validation on save, the render context, and rendering.

Templates are Jinja2 rendered in an immutable sandbox with `StrictUndefined`; the HTML body is
autoescaped, subject and plain text are not. Three lines of defence:

1. On save, `template_errors` bounds a template's size and nesting before Jinja compiles it
   (compiling costs far more than the text suggests), then walks its syntax tree: every variable
   and attribute path must be in `CONTEXT_VARIABLES`, private attributes and methods of plain
   values are rejected, `include`/`import`/`extends` are rejected, and only `ALLOWED_FILTERS` may
   be used (`validation.py`).
2. At render time the context holds only plain data built by `build_context` (`context.py`), never
   model instances, and
3. the sandbox refuses unsafe attributes and oversized `*`, `+`, `**` and `%` results
   (`sandbox.py`), so even a template saved before these rules cannot reach a method of ours or
   exhaust memory (`rendering.py`).

Any failure to render is a `TemplateRenderError` whose message is fit to store on a failed row.
"""

from sequences.templating.context import CONTEXT_VARIABLES, LIST_VARIABLES, build_context, invoice_context
from sequences.templating.rendering import RenderedEmail, TemplateRenderError, render_step
from sequences.templating.sandbox import ALLOWED_FILTERS, FIELD_HTML, FIELD_PLAIN, FIELD_SUBJECT
from sequences.templating.validation import MAX_DEPTH, MAX_NODES, MAX_TOKENS, template_errors

__all__ = [
    "ALLOWED_FILTERS",
    "CONTEXT_VARIABLES",
    "FIELD_HTML",
    "FIELD_PLAIN",
    "FIELD_SUBJECT",
    "LIST_VARIABLES",
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_TOKENS",
    "RenderedEmail",
    "TemplateRenderError",
    "build_context",
    "invoice_context",
    "render_step",
    "template_errors",
]
