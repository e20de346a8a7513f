"""Passwords and tokens as stored: a password as its scrypt hash, a token (a collector's, a
kiosk's, an API session's) as its SHA-256, so neither is ever kept or compared in the clear."""
from __future__ import annotations

import hashlib
import secrets

from flask import current_app, has_app_context
from werkzeug.security import generate_password_hash

# scrypt (N=2^15, r=8, p=1): a memory-hard KDF, Werkzeug's strongest built-in method
PASSWORD_METHOD = "scrypt:32768:8:1"  # the name of the hash method, not a password  # nosec B105
MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=hash_method())


def hash_method() -> str:
    # The test harness passes a cheaper scrypt through create_app(overrides), so a test run does
    # not spend most of its time in the KDF; no environment variable sets it, so no deployment can.
    method = current_app.config.get("PASSWORD_HASH_METHOD") if has_app_context() else None
    return method if method and method.startswith("scrypt:") else PASSWORD_METHOD


def new_token() -> tuple[str, str]:
    """A new token and the SHA-256 that is stored in its place."""
    token = secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
