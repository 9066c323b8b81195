"""The OpenAPI 3.1 description an integrator generates a client from."""

from __future__ import annotations

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_schema_is_openapi_3_1_with_every_endpoint(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"] == "3.1.0"
    assert set(schema["paths"]) == {
        "/api/v1/dossiers",
        "/api/v1/dossiers:batch",
        "/api/v1/dossiers/{code}",
        "/api/v1/items/{code}/events",
        "/api/v1/weekly-rates",
        "/api/v1/webhooks",
        "/api/v1/webhooks/{id}",
    }
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert "422" in schema["paths"]["/api/v1/dossiers:batch"]["post"]["responses"]


def test_schema_generates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
