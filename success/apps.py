from django.apps import AppConfig


class SuccessConfig(AppConfig):
    name = "success"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from success import receivers, state_cache

        state_cache.connect_invalidation()
        receivers.connect_receivers()
