"""Managing accounts: the rules shared by the `users` commands and the administration pages.

Every refusal is an AccountRefused carrying the Vietnamese and English message, so the
command line prints it and a page shows it in the reader's language.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import storage
from storage import audit, logins, units, users
from storage.errors import BilingualError

from . import credentials

NAME_RE = re.compile(r"[A-Za-z0-9_.@-]{1,64}")


class AccountRefused(BilingualError):
    """An account that cannot be created, changed or revoked as asked."""

    code = "account_refused"


@dataclass
class NewAccount:
    user_id: int
    name: str
    role: str
    token: str | None  # collectors only; shown once, never stored


def check_password_rules(password: str) -> None:
    if len(password or "") < credentials.MIN_PASSWORD_LENGTH:
        raise AccountRefused(f"Mật khẩu cần ít nhất {credentials.MIN_PASSWORD_LENGTH} ký tự.",
                             f"The password needs at least {credentials.MIN_PASSWORD_LENGTH} characters.")


def create_account(db, *, name: str, role: str, unit_code: str | None, password: str | None,
                   actor: str | None) -> NewAccount:
    """Create an account; a collector gets a token (its server URL), others need a password."""
    if not NAME_RE.fullmatch(name or ""):
        raise AccountRefused(
            "Tên tài khoản chỉ gồm chữ cái không dấu, chữ số và các dấu _ . @ -, tối đa 64 ký tự.",
            "An account name may hold ASCII letters, digits and _ . @ -, at most 64 characters.")
    if role not in users.ROLES:
        raise AccountRefused(f'Vai trò "{role}" không hợp lệ.', f'Unknown role "{role}".')
    existing = users.get_user_by_name(db, name)
    if existing is not None and existing["revoked_at"] is None:
        raise AccountRefused(f'Tài khoản "{name}" đã có.', f'Account "{name}" already exists.')
    if unit_code and units.get_unit_in_force(db, unit_code) is None:
        raise AccountRefused(f'Không có đơn vị "{unit_code}" đang có hiệu lực (chưa có hoặc đã giải thể).',
                             f'No unit "{unit_code}" in force (unknown or retired).')
    token = token_sha = password_hash = None
    if role == "collector":
        token, token_sha = credentials.new_token()
    if password is not None:
        check_password_rules(password)
        password_hash = credentials.hash_password(password)
    elif role != "collector":
        raise AccountRefused("Cần đặt mật khẩu cho tài khoản này.", "This account needs a password.")
    # the audit entry (and a revoked holder of the name giving it up) share the insert's transaction
    user_id = users.create_user(db, name, role, unit_code or None, password_hash, token_sha, actor=actor)
    return NewAccount(user_id, name, role, token)


def reset_password(db, *, name: str, password: str, actor: str | None) -> None:
    check_password_rules(password)
    # storage.users.set_password also ends the account's sessions, lifts its lock-out and audits
    if not users.set_password(db, name, credentials.hash_password(password), actor=actor):
        raise AccountRefused(f'Không có tài khoản đang hoạt động "{name}".', f'No active account "{name}".')


def unlock_account(db, *, name: str, actor: str | None) -> int:
    """Lift the lock-out of an account: forget the failed logins counted against its name (those
    counted against a client address stay). How many were forgotten; audited either way."""
    if users.get_user_by_name(db, name) is None:
        raise AccountRefused(f'Không có tài khoản "{name}".', f'No account "{name}".')
    with storage.write_transaction(db):
        forgotten = logins.forget_failures(db, name)
        audit.record(db, actor, "user.unlock", name, failures=forgotten)
    return forgotten


def revoke_account(db, *, name: str, actor: str | None) -> None:
    if not users.revoke_user(db, name, actor=actor):
        raise AccountRefused(f'Không có tài khoản đang hoạt động "{name}".', f'No active account "{name}".')

