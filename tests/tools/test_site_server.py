"""The development server of the booking site: the files as they are, and /config.js
naming the API's origin."""

import urllib.request

import pytest

from tools.site_server import serve_in_thread

API = "http://api.example:8000"


@pytest.fixture
def site():
    server = serve_in_thread("127.0.0.1", 0, f"{API}/")
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def get(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response, response.read().decode()


def test_config_js_names_the_api_origin(site):
    response, body = get(f"{site}/config.js")

    assert body == f'window.CLINIC_API = "{API}";\n'
    assert response.headers["Content-Type"].startswith("text/javascript")


def test_the_pages_are_served_with_a_policy_that_lets_them_call_the_api_only(site):
    response, body = get(f"{site}/")

    assert '<main id="main"' in body
    policy = response.headers["Content-Security-Policy"]
    assert f"connect-src 'self' {API};" in policy
    assert "default-src 'self'" in policy


def test_modules_are_served_as_javascript(site):
    response, _ = get(f"{site}/js/app.js")

    assert "javascript" in response.headers["Content-Type"]


def test_make_run_tells_the_api_where_its_site_is():
    from tools.devenv import site_settings

    assert site_settings({}, "http://127.0.0.1:8191") == {"SITE_URL": "http://127.0.0.1:8191"}
    assert site_settings({"SITE_URL": "https://book.clinic.example"}, "http://127.0.0.1:8191") == {
        "SITE_URL": "https://book.clinic.example"
    }
