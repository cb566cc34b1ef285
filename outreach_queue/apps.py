from django.apps import AppConfig


class OutreachQueueConfig(AppConfig):
    name = "outreach_queue"
    label = "queue"
    verbose_name = "Outreach queue"

    def ready(self) -> None:
        from outreach_queue import checks, payloads, receivers  # noqa: F401  (checks; webhook signals)

        payloads.register()
