"""Rate limits of the API, on the Redis cache (whose keys carry the schema name).

* per key: DRF's throttle, once a request is authenticated;
* per client address, for presented keys that were refused: DRF authenticates before it throttles,
  so its own throttles never see a wrong key; ``api.authentication`` counts refusals itself and
  answers 429 once an address has made too many, so guessing keys is slow.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from api.authentication import KeyClient


class ApiKeyThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        user = request.user
        if not isinstance(user, KeyClient):
            return None
        return self.cache_format % {"scope": self.scope, "ident": f"{user.customer.schema_name}:{user.key.pk}"}
