"""Questions the sequences app asks about data it does not own.

The enrollments app sits above sequences and answers these by registering providers at start-up
(`EnrollmentsConfig.ready`), so `sequences` never imports `enrollments`. Until a provider is
registered the answers are the empty ones (no history, no enrollments).
"""

from collections.abc import Callable, Iterable
from uuid import UUID

HistoryProvider = Callable[[Iterable[UUID]], set[UUID]]
CountProvider = Callable[[UUID], int]

_steps_with_history: HistoryProvider = lambda step_ids: set()  # noqa: E731
_active_enrollment_count: CountProvider = lambda sequence_id: 0  # noqa: E731


def register_history_provider(provider: HistoryProvider) -> None:
    global _steps_with_history
    _steps_with_history = provider


def register_active_enrollment_count(provider: CountProvider) -> None:
    global _active_enrollment_count
    _active_enrollment_count = provider


def steps_with_history(step_ids: Iterable[UUID]) -> set[UUID]:
    """Ids, among `step_ids`, of steps any enrollment was ever scheduled with (one query)."""
    return _steps_with_history(list(step_ids))


def active_enrollment_count(sequence_id: UUID) -> int:
    return _active_enrollment_count(sequence_id)
