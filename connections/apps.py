from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "connections"
    verbose_name = "Email connections"

    def ready(self) -> None:
        from connections import payloads

        payloads.register()
