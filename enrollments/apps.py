from django.apps import AppConfig


class EnrollmentsConfig(AppConfig):
    name = "enrollments"
    verbose_name = "Enrollments"

    def ready(self) -> None:
        from enrollments import (
            receivers,  # noqa: F401  (connects to sequences and core signals)
            selectors,
        )
        from sequences import hooks

        # sequences sits below us: it asks about history and enrollment counts through these hooks.
        hooks.register_history_provider(selectors.steps_with_history)
        hooks.register_active_enrollment_count(selectors.active_enrollment_count)
