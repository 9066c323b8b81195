"""How the OpenAPI schema (drf-spectacular) describes what is PostDesk's own. Imported by
api/urls.py, before any schema is built: drf-spectacular and what it loads cost every process
a tenth of a second at start-up, which a worker or a management command does not need."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from api.authentication import ClientTokenAuthentication


class ClientTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes client tokens."""

    target_class = ClientTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A client token, pdk_…"}
