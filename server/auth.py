"""Credentials: password hashes, collector tokens, and who is asking in a request."""
from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import request
from werkzeug.security import check_password_hash, generate_password_hash

from storage import users

# scrypt (N=2^15, r=8, p=1): a memory-hard KDF, Werkzeug's strongest built-in method
PASSWORD_METHOD = "scrypt:32768:8:1"
MIN_PASSWORD_LENGTH = 10
# Checked against when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(8), method=PASSWORD_METHOD)


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


def new_token() -> tuple[str, str]:
    """A collector token and the SHA-256 that is stored in its place."""
    token = secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def user_for_token(db, token: str) -> dict | None:
    if not token or len(token) > 128:
        return None
    user = users.get_user_by_token(db, token_digest(token))
    # the lookup is by digest; compare again in constant time for good measure
    if user and hmac.compare_digest(user["token_sha256"], token_digest(token)):
        return user
    return None


def check_password(db, name: str, password: str) -> dict | None:
    user = users.get_user_by_name(db, name)
    if user is None or user["revoked_at"] or not user["password_hash"]:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user["password_hash"], password) else None


def basic_auth_user(db) -> dict | None:
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username or auth.password is None:
        return None
    return check_password(db, auth.username, auth.password)
