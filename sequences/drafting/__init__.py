"""AI-written reminder drafts from a step's `instructions` (see docs/ai-drafts.md).

One interface, `generate_draft`, over one provider: the OpenAI-compatible chat API through the
official `openai` SDK. Every draft is parsed as structured JSON, fact-checked against the same
plain-data context the templates get, and its HTML sanitised before anyone sees it.
"""

from sequences.drafting.checks import check_facts, sanitize_html
from sequences.drafting.generate import (
    PROMPT_VERSION,
    DraftRejected,
    GeneratedDraft,
    GenerationError,
    GenerationNotConfigured,
    GenerationUnavailable,
    generate_draft,
    generation_configured,
)
from sequences.drafting.steps import step_has_templates, step_is_drafted, step_needs_provider

__all__ = [
    "PROMPT_VERSION",
    "DraftRejected",
    "GeneratedDraft",
    "GenerationError",
    "GenerationNotConfigured",
    "GenerationUnavailable",
    "check_facts",
    "generate_draft",
    "generation_configured",
    "sanitize_html",
    "step_has_templates",
    "step_is_drafted",
    "step_needs_provider",
]
