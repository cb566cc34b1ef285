from django.apps import AppConfig


class DaylitConfig(AppConfig):
    name = "daylit"
    label = "daylit"
    verbose_name = "Core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from daylit import schema  # noqa: F401  (registers the OpenAPI extensions)
