"""Read queries behind the web pages, each limited to a unit scope inside the SQL itself.

`scope` is the unit code an account is bound to (its whole subtree is visible) or None for a
province-wide account. Scoping in the WHERE clause, rather than filtering rows after they are
fetched, means a page can never show, count or page through a row outside the scope.
Submissions without a unit are visible to province-wide accounts only.
"""
from __future__ import annotations

from dataclasses import dataclass

# a unit and everything under it, as a subquery taking the unit code as its one parameter
SUBTREE = """(WITH RECURSIVE tree(code) AS (
    SELECT code FROM units WHERE code = ?
    UNION SELECT units.code FROM units JOIN tree ON units.parent_code = tree.code)
  SELECT code FROM tree)"""
# a unit and every unit above it
ANCESTORS = """(WITH RECURSIVE up(code, parent) AS (
    SELECT code, parent_code FROM units WHERE code = ?
    UNION SELECT units.code, units.parent_code FROM units JOIN up ON units.code = up.parent)
  SELECT code FROM up)"""


# --- units ---------------------------------------------------------------------------------

def units_in_scope(db, scope: str | None, in_force: bool = False) -> list[dict]:
    """The units an account may pick, parents before children, each with its depth; with
    in_force, only units in force (for anything new: accounts, links, kiosks, forms)."""
    if scope is None:
        rows = list(db.query("SELECT code, parent_code, level, name_vi, name_en, retired_on FROM units"))
    else:
        rows = list(db.query(
            f"SELECT code, parent_code, level, name_vi, name_en, retired_on FROM units WHERE code IN {SUBTREE}",
            [scope]))
    if in_force:
        rows = [r for r in rows if r["retired_on"] is None]
    children: dict[str | None, list[dict]] = {}
    codes = {r["code"] for r in rows}
    for row in rows:
        parent = row["parent_code"] if row["parent_code"] in codes else None
        children.setdefault(parent, []).append(row)
    ordered: list[dict] = []

    def walk(parent, depth):
        for row in sorted(children.get(parent, []), key=lambda r: r["code"]):
            ordered.append({**row, "depth": depth})
            walk(row["code"], depth + 1)

    walk(None, 0)
    return ordered


def unit_in_scope(db, code: str, scope: str | None) -> bool:
    if scope is None:
        return db.execute("SELECT 1 FROM units WHERE code = ?", [code]).fetchone() is not None
    return db.execute(f"SELECT 1 WHERE ? IN {SUBTREE}", [code, scope]).fetchone() is not None


# --- forms ---------------------------------------------------------------------------------

_FORM_COLUMNS = """f.form_id, f.title, f.state, f.unit_code, f.created_at, v.version, v.id AS version_id,
       v.published_at, (SELECT count(*) FROM form_versions WHERE form_id = f.form_id) AS versions,
       un.name_vi AS unit_name_vi, un.name_en AS unit_name_en"""
_FORM_FROM = """FROM forms f
     JOIN form_versions v ON v.id = (SELECT max(id) FROM form_versions WHERE form_id = f.form_id)
     LEFT JOIN units un ON un.code = f.unit_code"""
# a form for no unit is used everywhere; a form of a unit is seen from above it and below it
_FORM_SCOPE = f"(f.unit_code IS NULL OR f.unit_code IN {SUBTREE} OR f.unit_code IN {ANCESTORS})"


def forms_in_scope(db, scope: str | None) -> list[dict]:
    if scope is None:
        return list(db.query(f"SELECT {_FORM_COLUMNS} {_FORM_FROM} ORDER BY f.form_id"))
    return list(db.query(f"SELECT {_FORM_COLUMNS} {_FORM_FROM} WHERE {_FORM_SCOPE} ORDER BY f.form_id",
                         [scope, scope]))


def form_in_scope(db, form_id: str, scope: str | None) -> dict | None:
    if scope is None:
        rows = list(db.query(f"SELECT {_FORM_COLUMNS} {_FORM_FROM} WHERE f.form_id = ?", [form_id]))
    else:
        rows = list(db.query(f"SELECT {_FORM_COLUMNS} {_FORM_FROM} WHERE f.form_id = ? AND {_FORM_SCOPE}",
                             [form_id, scope, scope]))
    return rows[0] if rows else None


def form_versions(db, form_id: str) -> list[dict]:
    """Every version of a form, newest first, without the file contents."""
    return list(db.query(
        """SELECT id, version, title, published_at, published_by, xform_md5,
                  xlsform IS NOT NULL AS has_xlsform
           FROM form_versions WHERE form_id = ? ORDER BY id DESC""", [form_id]))


# --- accounts and the audit log ------------------------------------------------------------

def users_in_scope(db, scope: str | None, *, collectors: bool | None = None) -> list[dict]:
    """Accounts bound to a unit in the scope (province-wide accounts only for scope None).

    collectors=True: token collectors only; False: everyone else; None: all.
    """
    where, params = [], []
    if scope is not None:
        where.append(f"u.unit_code IN {SUBTREE}")
        params.append(scope)
    if collectors is True:
        where.append("u.role = 'collector' AND u.token_sha256 IS NOT NULL")
    elif collectors is False:
        where.append("NOT (u.role = 'collector' AND u.token_sha256 IS NOT NULL)")
    sql = """SELECT u.id, u.name, u.role, u.unit_code, u.created_at, u.revoked_at,
                    u.password_hash IS NOT NULL AS has_password, u.token_sha256 IS NOT NULL AS has_token,
                    un.name_vi AS unit_name_vi, un.name_en AS unit_name_en
             FROM users u LEFT JOIN units un ON un.code = u.unit_code"""
    if where:
        sql += " WHERE " + " AND ".join(where)
    return list(db.query(sql + " ORDER BY u.revoked_at IS NOT NULL, u.name", params))


def user_in_scope(db, name: str, scope: str | None) -> dict | None:
    if scope is None:
        rows = list(db.query("SELECT * FROM users WHERE name = ?", [name]))
    else:
        rows = list(db.query(f"SELECT * FROM users WHERE name = ? AND unit_code IN {SUBTREE}", [name, scope]))
    return rows[0] if rows else None


def audit_page(db, scope: str | None, *, before_id: int | None = None, limit: int = 50) -> tuple[list[dict], bool]:
    """Newest entries first, older than `before_id`; returns (rows, whether older ones exist).

    A unit-bound administrator sees what the accounts of its subtree did.
    """
    where, params = [], []
    if scope is not None:
        where.append(f"actor IN (SELECT name FROM users WHERE unit_code IN {SUBTREE})")
        params.append(scope)
    if before_id is not None:
        where.append("id < ?")
        params.append(before_id)
    sql = "SELECT * FROM audit_log"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = list(db.query(sql + " ORDER BY id DESC LIMIT ?", params + [limit + 1]))
    return rows[:limit], len(rows) > limit


# --- submissions ---------------------------------------------------------------------------

@dataclass
class SubmissionFilter:
    form_id: str | None = None
    unit_code: str | None = None       # this unit and its subtree
    started_from: str | None = None    # UTC ISO text, inclusive
    started_before: str | None = None  # UTC ISO text, exclusive
    channel: str | None = None
    review_state: str | None = None


def _submission_where(scope: str | None, f: SubmissionFilter) -> tuple[list[str], list]:
    # only the current version of an edit chain is listed; older ones show on its page
    where, params = ["s.current = 1", "s.deleted_at IS NULL"], []
    if scope is not None:
        where.append(f"s.unit_code IN {SUBTREE}")
        params.append(scope)
    if f.unit_code:
        where.append(f"s.unit_code IN {SUBTREE}")
        params.append(f.unit_code)
    for column, value in (("s.form_id", f.form_id), ("s.channel", f.channel),
                          ("s.review_state", f.review_state)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if f.started_from:
        where.append("s.started_at >= ?")
        params.append(f.started_from)
    if f.started_before:
        where.append("s.started_at < ?")
        params.append(f.started_before)
    return where, params


_SUBMISSION_COLUMNS = """s.id, s.instance_id, s.form_id, s.version, s.received_at, s.started_at,
       s.channel, s.unit_code, s.review_state, s.root_id, s.current, s.encrypted,
       (SELECT count(*) - 1 FROM submissions e WHERE e.root_id = s.root_id) AS edits,
       un.name_vi AS unit_name_vi, un.name_en AS unit_name_en"""


def submissions_page(db, scope: str | None, f: SubmissionFilter, *, after_id: int | None = None,
                     before_id: int | None = None, limit: int = 50) -> dict:
    """One page of submissions, newest first, by keyset on the id (no OFFSET: every page costs
    the same however deep it is).

    after_id: the page of rows older than this id; before_id: the page of rows newer than it.
    Returns {"rows", "older" (id to pass as after_id or None), "newer" (id for before_id or None)}.
    """
    where, params = _submission_where(scope, f)
    if before_id is not None:
        cond, order, cursor = where + ["s.id > ?"], "ASC", [before_id]
    else:
        cond, order, cursor = where + (["s.id < ?"] if after_id is not None else []), "DESC", (
            [after_id] if after_id is not None else [])
    # the page's ids first, then their columns: computing the columns (edit counts, unit names)
    # for every candidate row before the sort would cost as much as the whole scope
    ids = f"SELECT s.id FROM submissions s WHERE {' AND '.join(cond)} ORDER BY s.id {order} LIMIT ?"
    rows = list(db.query(
        f"""SELECT {_SUBMISSION_COLUMNS} FROM submissions s LEFT JOIN units un ON un.code = s.unit_code
            WHERE s.id IN ({ids}) ORDER BY s.id DESC""", params + cursor + [limit]))
    older = newer = None
    if rows:
        def any_beyond(op: str, edge: int) -> bool:
            sql = f"SELECT 1 FROM submissions s WHERE {' AND '.join(where + [f's.id {op} ?'])} LIMIT 1"
            return db.execute(sql, params + [edge]).fetchone() is not None

        if any_beyond("<", rows[-1]["id"]):
            older = rows[-1]["id"]
        if any_beyond(">", rows[0]["id"]):
            newer = rows[0]["id"]
    return {"rows": rows, "older": older, "newer": newer}


def submission_in_scope(db, submission_id: int, scope: str | None) -> dict | None:
    """One submission (any version of a chain) with its unit and form title, if in scope."""
    where, params = ["s.id = ?", "s.deleted_at IS NULL"], [submission_id]
    if scope is not None:
        where.append(f"s.unit_code IN {SUBTREE}")
        params.append(scope)
    rows = list(db.query(
        f"""SELECT {_SUBMISSION_COLUMNS}, s.form_version_id, s.device_id, s.deprecated_id,
                   s.attachments_expected, usr.name AS submitter, f.title AS form_title
            FROM submissions s LEFT JOIN units un ON un.code = s.unit_code
            LEFT JOIN users usr ON usr.id = s.submitter_id
            LEFT JOIN forms f ON f.form_id = s.form_id
            WHERE {' AND '.join(where)}""", params))
    return rows[0] if rows else None


def edit_chain(db, root_id: int, scope: str | None) -> list[dict]:
    """The versions of one submission, first to last, as far as the scope shows them."""
    where, params = ["s.root_id = ?", "s.deleted_at IS NULL"], [root_id]
    if scope is not None:
        where.append(f"s.unit_code IN {SUBTREE}")
        params.append(scope)
    return list(db.query(
        f"""SELECT s.id, s.instance_id, s.version, s.received_at, s.current, s.unit_code, s.review_state
            FROM submissions s WHERE {' AND '.join(where)} ORDER BY s.id""", params))


def attachment_in_scope(db, submission_id: int, name: str, scope: str | None) -> dict | None:
    where, params = ["a.submission_id = ?", "a.name = ?", "s.deleted_at IS NULL"], [submission_id, name]
    if scope is not None:
        where.append(f"s.unit_code IN {SUBTREE}")
        params.append(scope)
    rows = list(db.query(
        f"""SELECT a.* FROM attachments a JOIN submissions s ON s.id = a.submission_id
            WHERE {' AND '.join(where)}""", params))
    return rows[0] if rows else None
