"""How a step's `instructions` decide where its email comes from (one rule for saving and promoting)."""

from sequences.drafting.generate import generation_configured
from sequences.models import SequenceStep


def step_has_templates(step: SequenceStep) -> bool:
    return bool(step.subject_template or step.body_plain_template or step.body_html_template)


def _instructed_reminder(step: SequenceStep) -> bool:
    return step.step_type == SequenceStep.StepType.REMINDER and bool(step.instructions.strip())


def step_is_drafted(step: SequenceStep) -> bool:
    """Its email is written by the AI (its templates, if any, are the frame the instructions refine)."""
    return _instructed_reminder(step) and generation_configured()


def step_needs_provider(step: SequenceStep) -> bool:
    """Written only as instructions while no provider is configured: it can never become an email."""
    return _instructed_reminder(step) and not step_has_templates(step) and not generation_configured()
