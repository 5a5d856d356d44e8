from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Customers and users"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tenants import access, host_cache, sockets

        host_cache.connect_invalidation()
        access.connect_membership_cache()
        sockets.connect_revocation()
