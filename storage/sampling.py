"""Sample plans: the rule each was drawn by, its strata, its members and who is to ask them.

Whether a member was reached is not kept here: `responses()` reads it from the submissions that
carry the member's dossier code, and `sampling.status` decides from that which reserves are
released. So nothing has to be kept in step when a submission is edited, rejected or deleted.
"""
from __future__ import annotations

from . import audit
from .clock import now_iso
from .db import first_row, write_transaction

PLAN_COLUMNS = ("form_id", "period", "unit_code", "method", "margin", "fixed_size", "by_field",
                "reserve_percent", "seed")


class PlanExists(Exception):
    """A live plan already covers this form, period and unit."""

    def __init__(self, plan_id: int):
        super().__init__(plan_id)
        self.plan_id = plan_id


def create_plan(db, plan: dict, strata: list[dict], members: list[dict], actor: str | None) -> int:
    """Store a drawn plan whole, or nothing. `strata`: unit_code, procedure_field, population,
    size, reserve; `members`: dossier_id, unit_code, procedure_field, rank, reserve (0/1)."""
    with write_transaction(db):
        live = first_row(db, """SELECT id FROM sample_plans WHERE form_id = ? AND period = ?
                                 AND coalesce(unit_code, '') = coalesce(?, '') AND withdrawn_at IS NULL""",
                         [plan["form_id"], plan["period"], plan.get("unit_code")])
        if live:
            raise PlanExists(live["id"])
        plan_id = db.execute(
            f"""INSERT INTO sample_plans ({", ".join(PLAN_COLUMNS)}, created_at, created_by)
                VALUES ({", ".join("?" for _ in PLAN_COLUMNS)}, ?, ?)""",
            [plan.get(c) for c in PLAN_COLUMNS] + [now_iso(), actor]).lastrowid
        db.conn.executemany(
            """INSERT INTO sample_strata (plan_id, unit_code, procedure_field, population, size, reserve)
               VALUES (?, ?, ?, ?, ?, ?)""",
            [(plan_id, s["unit_code"], s["procedure_field"], s["population"], s["size"], s["reserve"])
             for s in strata])
        db.conn.executemany(
            """INSERT INTO sample_members (plan_id, dossier_id, unit_code, procedure_field, rank, reserve)
               VALUES (?, ?, ?, ?, ?, ?)""",
            [(plan_id, m["dossier_id"], m["unit_code"], m["procedure_field"], m["rank"], m["reserve"])
             for m in members])
        audit.record(db, actor, "sample.create", f"plan:{plan_id}", form_id=plan["form_id"],
                     period=plan["period"], unit_code=plan.get("unit_code"), seed=plan["seed"],
                     members=len(members))
    return plan_id


def withdraw_plan(db, plan_id: int, actor: str | None) -> bool:
    with write_transaction(db):
        changed = db.execute(
            "UPDATE sample_plans SET withdrawn_at = ?, withdrawn_by = ? WHERE id = ? AND withdrawn_at IS NULL",
            [now_iso(), actor, plan_id]).rowcount
        if changed:
            audit.record(db, actor, "sample.withdraw", f"plan:{plan_id}")
    return bool(changed)


def get_plan(db, plan_id: int) -> dict | None:
    return first_row(db, "SELECT * FROM sample_plans WHERE id = ?", [plan_id])


def list_plans(db, *, include_withdrawn: bool = False) -> list[dict]:
    return list(db.query(
        f"""SELECT p.*, (SELECT count(*) FROM sample_members m WHERE m.plan_id = p.id AND m.reserve = 0) AS size,
                   (SELECT count(*) FROM sample_members m WHERE m.plan_id = p.id AND m.reserve = 1) AS reserve
            FROM sample_plans p {"" if include_withdrawn else "WHERE p.withdrawn_at IS NULL"}
            ORDER BY p.id DESC"""))


def plan_strata(db, plan_id: int) -> list[dict]:
    return list(db.query("SELECT * FROM sample_strata WHERE plan_id = ? ORDER BY unit_code, procedure_field",
                         [plan_id]))


_MEMBER_SELECT = """
    SELECT m.plan_id, m.dossier_id, m.unit_code, m.procedure_field AS stratum_field, m.rank, m.reserve,
           m.collector_id, u.name AS collector_name, d.code, d.procedure_name,
           d.procedure_field, d.received_on, d.due_on, d.returned_on
    FROM sample_members m JOIN dossiers d ON d.id = m.dossier_id
    LEFT JOIN users u ON u.id = m.collector_id"""


def plan_members(db, plan_id: int) -> list[dict]:
    """Every member of a plan in stratum and rank order, with its dossier (no identifiers)."""
    return list(db.query(_MEMBER_SELECT + " WHERE m.plan_id = ? ORDER BY m.unit_code, m.procedure_field, m.rank",
                         [plan_id]))


def strata_members_of_collector(db, collector_id: int, form_id: str) -> list[dict]:
    """All members of the live plans of a form in every stratum where this surveyor has a
    member: a stratum's reserves are released by what happened to all of it."""
    # the surveyor's strata first (by the collector index), then their members (by the stratum
    # index): CROSS JOIN keeps SQLite from starting at the members and probing each one
    return list(db.query(
        """WITH mine AS (
             SELECT DISTINCT m.plan_id, m.unit_code, m.procedure_field
             FROM sample_members m JOIN sample_plans p ON p.id = m.plan_id
             WHERE m.collector_id = ? AND p.form_id = ? AND p.withdrawn_at IS NULL)
           SELECT m.plan_id, m.dossier_id, m.unit_code, m.procedure_field AS stratum_field, m.rank, m.reserve,
                  m.collector_id, u.name AS collector_name, d.code, d.procedure_name,
                  d.procedure_field, d.received_on, d.due_on, d.returned_on
           FROM mine CROSS JOIN sample_members m ON m.plan_id = mine.plan_id AND m.unit_code = mine.unit_code
                AND m.procedure_field = mine.procedure_field
           JOIN dossiers d ON d.id = m.dossier_id LEFT JOIN users u ON u.id = m.collector_id
           ORDER BY m.plan_id, m.unit_code, m.procedure_field, m.rank""", [collector_id, form_id]))


def assignments_by_unit(db, plan_id: int) -> list[tuple[str, str | None, str, int]]:
    """(surveyor, the surveyor's unit, member unit, members) of a plan's assigned members."""
    return db.execute(
        """SELECT u.name, u.unit_code, m.unit_code, count(*) FROM sample_members m
           JOIN users u ON u.id = m.collector_id WHERE m.plan_id = ?
           GROUP BY u.name, u.unit_code, m.unit_code ORDER BY u.name, m.unit_code""", [plan_id]).fetchall()


def assign(db, plan_id: int, collector_ids: list[int], actor: str | None, *,
           unit_codes: set[str] | None = None) -> int:
    """Share the members of a plan's strata (of these units, or all) among surveyors, in rank
    order in turn, so each gets a part of the sample and of its reserve. An empty list unassigns."""
    with write_transaction(db):
        rows = db.execute(
            "SELECT dossier_id, unit_code FROM sample_members WHERE plan_id = ? ORDER BY unit_code, procedure_field, rank",
            [plan_id]).fetchall()
        chosen = [dossier_id for dossier_id, unit in rows if unit_codes is None or unit in unit_codes]
        db.conn.executemany(
            "UPDATE sample_members SET collector_id = ? WHERE plan_id = ? AND dossier_id = ?",
            [(collector_ids[i % len(collector_ids)] if collector_ids else None, plan_id, dossier_id)
             for i, dossier_id in enumerate(chosen)])
        audit.record(db, actor, "sample.assign", f"plan:{plan_id}", collectors=collector_ids,
                     units=sorted(unit_codes) if unit_codes is not None else None, members=len(chosen))
    return len(chosen)


def responses(db, form_id: str, plan_ids: list[int], dossier_paths: list[str],
              outcome_columns: list[str], consent_columns: list[str]) -> list[tuple]:
    """(dossier code, contact outcome, consent, form version id) of every counted submission of
    the form that carries the code of a member of these plans. Columns are the answer table's
    (the role paths of the form's versions); a NULL where a version had no such question."""
    from .schema import answer_table
    if not plan_ids or not dossier_paths:
        return []
    table = answer_table(form_id)
    present = set(db[table].columns_dict) if db[table].exists() else set()

    def first_of(columns):
        found = [f"a.[{c}]" for c in columns if c in present]
        if not found:
            return "NULL"
        return found[0] if len(found) == 1 else f"coalesce({', '.join(found)})"

    join = f"LEFT JOIN [{table}] a ON a._submission_id = s.id" if present else ""
    return db.execute(
        f"""SELECT i.value, {first_of(outcome_columns)}, {first_of(consent_columns)}, s.form_version_id
            FROM identifiers i JOIN submissions s ON s.id = i.submission_id {join}
            WHERE i.path IN ({", ".join("?" for _ in dossier_paths)}) AND s.form_id = ?
              AND s.current = 1 AND s.deleted_at IS NULL AND s.review_state <> 'rejected'
              AND i.value IN (SELECT d.code FROM sample_members m JOIN dossiers d ON d.id = m.dossier_id
                              WHERE m.plan_id IN ({", ".join("?" for _ in plan_ids)}))""",
        [*dossier_paths, form_id, *plan_ids]).fetchall()
