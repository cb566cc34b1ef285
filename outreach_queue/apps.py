from django.apps import AppConfig


class OutreachQueueConfig(AppConfig):
    name = "outreach_queue"
    label = "queue"
    verbose_name = "Outreach queue"
