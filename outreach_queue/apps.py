from django.apps import AppConfig


class OutreachQueueConfig(AppConfig):
    name = "outreach_queue"
    label = "queue"
    verbose_name = "Outreach queue"

    def ready(self) -> None:
        from outreach_queue import checks, receivers  # noqa: F401  (registers checks; webhook signals)
