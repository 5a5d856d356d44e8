"""A per-process in-memory cache for tests that render dashboards (``success.state_cache``):
nothing cached by another test run sharing the machine's Redis can leak into them."""

MEMORY_CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "success-tests",
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    },
    "shared": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "success-tests-shared"},
}
