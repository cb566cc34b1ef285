from django.apps import AppConfig


class EnrollmentsConfig(AppConfig):
    name = "enrollments"
    verbose_name = "Enrollments"

    def ready(self) -> None:
        from enrollments import payloads, receivers  # noqa: F401  (receivers connect to lower apps' signals)

        payloads.register()
