"""Who may do what: each role's named actions, and the one check `can` (as ODK Central's auth.can).

A view, an API route or a command asks `can(user, "submission.review")`, never for a list of
roles, so what a role may do is read here and nowhere else (tests/test_access_matrix.py reads this
table too). With a unit, `can` also asks the unit scope: an account bound to a unit acts within
that unit's subtree only (actions/scope.py). Scope rules finer than one unit (a form's scope, a
plan's owner) stay with the code that knows them.
"""
from __future__ import annotations

from storage.users import ROLES

from actions import scope

# what every signed-in staff member may read: submissions (no identifiers), forms, figures
_READ = {"web.sign_in", "submission.read", "form.read", "indices.read"}

GRANTS: dict[str, frozenset[str]] = {
    "admin": frozenset(_READ | {
        "submission.send", "submission.review", "submission.identifiers", "export.identifiers",
        "plan.manage", "plan.identifiers", "register.import", "result.publish", "dissatisfied.follow_up",
        "form.publish", "link.manage", "paper.enter", "kiosk.manage",
        "account.manage", "unit.import", "audit.read", "settings.manage"}),
    "designer": frozenset(_READ | {"submission.send", "form.publish", "link.manage"}),
    "reporter": frozenset(_READ | {
        "submission.review", "plan.manage", "register.import", "result.publish", "dissatisfied.follow_up",
        "link.manage", "paper.enter"}),
    "viewer": frozenset(_READ),
    # a surveyor works in ODK Collect only: sends submissions, and signs in to no web page
    "collector": frozenset({"submission.send"}),
}
ACTIONS = frozenset().union(*GRANTS.values())
# an import-time check of constant tables; it guards no input, so -O may drop it
assert set(GRANTS) == set(ROLES)  # nosec B101


def roles_with(action: str) -> tuple[str, ...]:
    """The roles granted `action`, in storage.users.ROLES order."""
    if action not in ACTIONS:
        # a misspelt action would otherwise grant nothing, or be read as "nobody" by a test
        raise KeyError(f"unknown action {action!r}")
    return tuple(role for role in ROLES if action in GRANTS[role])


def can(user: dict | None, action: str, unit_code: str | None = None, *, db=None) -> bool:
    """May `user` do `action` (on `unit_code`, when given: then `db` is needed for the scope)?"""
    if user is None or user.get("role") not in roles_with(action):
        return False
    if unit_code is None:
        return True
    return scope.unit_in_scope(db, user, unit_code)
