"""The API's browsable docs work in Chromium under the site's Content-Security-Policy, and an
integrator can try a call with a token from the page."""

from __future__ import annotations

import pytest

from api.clients import create_client

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_swagger_ui_renders_under_the_csp_and_calls_the_api(page, commune):
    _client, token = create_client(name="tinh", unit=commune, scopes=["dossiers:read"])
    blocked = []
    page.on(
        "console",
        lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.on("pageerror", lambda error: blocked.append(str(error)))
    response = page.goto("/api/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.get_by_text("PostDesk API").first.wait_for()
    operation = page.locator(".opblock-summary-path", has_text="/api/v1/dossiers").first
    operation.wait_for()
    # Authorise with a client token, then "Try it out" on the dossier list.
    page.get_by_role("button", name="Authorize").click()
    page.locator(".auth-container input").first.fill(token)
    page.get_by_role("button", name="Apply credentials").first.click()
    page.get_by_role("button", name="Close").first.click()
    page.locator(".opblock-get .opblock-summary-path[data-path='/api/v1/dossiers']").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    page.locator(".live-responses-table .response-col_status", has_text="200").wait_for()
    assert blocked == []
