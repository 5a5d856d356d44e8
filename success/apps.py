from django.apps import AppConfig


class SuccessConfig(AppConfig):
    name = "success"
    default_auto_field = "django.db.models.BigAutoField"
