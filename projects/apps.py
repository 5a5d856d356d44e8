from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = "Projects"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from projects.delivery.payments import connect_billing_signals
        from projects.delivery.repository import connect_repository_signals

        connect_billing_signals()
        connect_repository_signals()
