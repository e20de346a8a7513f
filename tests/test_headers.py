"""Security headers on every response, and forwarding headers believed only from a named proxy."""
from __future__ import annotations

import re

import pytest
import requests
from flask import Response

from tests.harness.site import PASSWORD, LiveServer
from server import create_app
from web_site import csrf_token, login
from xlsforms import STANDARD_VERSION

# a source a policy may name: this site, nothing, inline data, or a hash/nonce of inline code
LOCAL_SOURCES = re.compile(r"^(?:'self'|'none'|data:|blob:|'unsafe-inline'|'unsafe-eval'|'wasm-unsafe-eval'"
                           r"|'strict-dynamic'|'nonce-[^']+'|'sha(?:256|384|512)-[^']+')$")
# directives whose values are not sources
NOT_SOURCES = {"sandbox", "upgrade-insecure-requests", "block-all-mixed-content", "report-uri", "report-to"}


def only_local(policy: str) -> bool:
    for directive in filter(None, (d.strip() for d in policy.split(";"))):
        name, *sources = directive.split()
        if name in NOT_SOURCES:
            continue
        if not sources or not all(LOCAL_SOURCES.match(s) for s in sources):
            return False
    return "default-src" in policy


def _samples(site) -> dict[str, str]:
    return {"form_id": "tthc_hailong", "submission_id": str(site.by_unit["474"][0]), "name": "anh-474.jpg",
            "version": STANDARD_VERSION, "sha256": "0" * 64, "token": site.tokens["dtv_tinh"],
            "filename": "units.csv", "publication_id": "1", "unit_code": "474", "sheet_no": "1", "print_id": "1",
            "conflict_id": "1"}


def test_every_response_has_the_headers_and_a_local_only_policy(web_site):
    app = web_site.app()
    admin = app.test_client()
    login(admin, "admin")
    anonymous = app.test_client()
    samples = _samples(web_site)
    seen = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        path = rule.rule
        for arg in rule.arguments:
            value = "app.css" if rule.endpoint == "static" else samples.get(arg, "x")
            path = re.sub(r"<(?:[^:>]+:)?" + arg + ">", value, path)
        for client in (admin, anonymous):
            response = client.get(path)
            response.get_data()
            response.close()      # a streamed download holds its request context until closed
            headers = response.headers
            assert headers.get("X-Content-Type-Options") == "nosniff", path
            assert headers.get("Referrer-Policy"), path
            assert only_local(headers.get("Content-Security-Policy", "")), (path, headers.get("Content-Security-Policy"))
            assert "Strict-Transport-Security" not in headers, path          # plain HTTP
            seen += 1
    # and the answers that no route makes: unknown paths, wrong methods, the receiver's errors
    for method, path in (("GET", "/khong-co"), ("DELETE", "/login"), ("POST", "/submission"),
                         ("GET", "/key/gia-mao/formList")):
        response = anonymous.open(path, method=method)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert only_local(response.headers["Content-Security-Policy"])
    assert seen > 40


def test_a_page_with_its_own_policy_keeps_it(web_site):
    app = web_site.app()
    own = "default-src 'self'; script-src 'self' 'sha256-abc'; style-src 'self' 'unsafe-inline'"
    app.add_url_rule("/own-policy", "own_policy", lambda: Response("x", headers={"Content-Security-Policy": own}))
    response = app.test_client().get("/own-policy")
    assert response.headers["Content-Security-Policy"] == own
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_hsts_only_over_https(web_site):
    app = web_site.app()
    client = app.test_client()
    for path in ("/login", "/formList", "/static/app.css", "/api/v1/indices"):
        assert "Strict-Transport-Security" in client.get(path, base_url="https://localhost").headers, path
        assert "Strict-Transport-Security" not in client.get(path).headers, path
    assert app.test_client().get("/login", base_url="https://localhost").headers[
        "Strict-Transport-Security"].startswith("max-age=31536000")


def test_forwarded_headers_are_ignored_without_trusted_proxies(web_site):
    client = web_site.app().test_client()
    response = client.get("/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert "Strict-Transport-Security" not in response.headers
    assert "Secure" not in response.headers.get("Set-Cookie", "")


def test_trusted_proxy_gives_scheme_and_client_address(web_copy):
    app = web_copy.app(TRUSTED_PROXIES=1, LOGIN_MAX_FAILURES_PER_IP=3)
    via_proxy = {"X-Forwarded-Proto": "https"}
    response = app.test_client().get("/login", headers=via_proxy)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Secure" in response.headers["Set-Cookie"]
    # the login limit counts the client's address, not the proxy's (every request comes from it)
    for n in range(3):
        client = app.test_client()
        client.post("/login", headers={**via_proxy, "X-Forwarded-For": "203.0.113.7"},
                    data={"name": f"khong-co-{n}", "password": "sai-mat-khau-000", "csrf_token": csrf_token(client)})
    locked = app.test_client()
    response = locked.post("/login", headers={**via_proxy, "X-Forwarded-For": "203.0.113.7"},
                           data={"name": "xem_hue", "password": PASSWORD, "csrf_token": csrf_token(locked)})
    assert response.status_code == 429
    other = app.test_client()
    response = other.post("/login", headers={**via_proxy, "X-Forwarded-For": "203.0.113.8"},
                          data={"name": "xem_hue", "password": PASSWORD, "csrf_token": csrf_token(other)})
    assert response.status_code == 302


def test_trusted_proxies_must_be_a_number(web_site):
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        create_app({"DATA_DIR": str(web_site.data_dir), "TRUSTED_PROXIES": "nginx"})


def test_through_gunicorn(site, tmp_path):
    # gunicorn itself believes no forwarding header (gunicorn.conf.py): only the app decides
    plain = requests.get(site.url + "/login", headers={"X-Forwarded-Proto": "https"}, timeout=30)
    assert "Strict-Transport-Security" not in plain.headers
    assert plain.headers["X-Content-Type-Options"] == "nosniff"
    proxied = LiveServer(site.data_dir, env={"TRUSTED_PROXIES": "1"}).start()
    try:
        response = requests.get(proxied.url + "/login", headers={"X-Forwarded-Proto": "https"}, timeout=30)
        assert "Strict-Transport-Security" in response.headers
        assert "Strict-Transport-Security" not in requests.get(proxied.url + "/login", timeout=30).headers
    finally:
        proxied.stop()
