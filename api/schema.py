"""The OpenAPI schema's view of each operation: drf-spectacular's, plus the error answers every
API operation can give (a bad request, no or a refused key, a key without the right, an unknown
object, a state conflict, too many requests), so clients and the schemathesis run see them
documented."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

ERROR_CODES = ("400", "401", "403", "404", "429")
WRITE_ERROR_CODES = ("409",)


class ErrorSerializer(serializers.Serializer[Any]):
    """``{"detail": "..."}``, or for invalid input one list of messages per field."""

    detail = serializers.CharField(required=False)


class ApiAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        codes = ERROR_CODES + (WRITE_ERROR_CODES if self.method not in ("GET", "HEAD", "OPTIONS") else ())
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code, direction=direction)  # type: ignore[no-untyped-call]
        return responses


class ApiKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """The key's place in the schema: ``Authorization: Api-Key <key>`` (``Bearer <key>`` also works)."""

    target_class = "api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>` or `Bearer <key>`; owners make keys at /settings/api-keys/.",
        }
