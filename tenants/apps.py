from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Customers and users"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tenants import access, audit, host_cache, reauth, sockets, two_factor

        host_cache.connect_invalidation()
        access.connect_membership_cache()
        audit.connect_login_audit()
        two_factor.connect_device_cache()
        reauth.connect_login_mark()
        sockets.connect_revocation()
