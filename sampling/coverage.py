"""Coverage of sample plans by unit and by surveyor, for the sampling pages and the report."""
from __future__ import annotations

from aggregate import periods
from storage import sampling, units

from .status import coverage, plan_status

UNASSIGNED = ""


def plan_coverage(db, plan: dict, within: set[str] | None = None) -> dict:
    """The plan's members with their status and the coverage tables, limited to the units in
    `within` (an account's subtree) when given."""
    members = members_within(db, plan, within)
    by_unit, total = coverage(members, key=lambda m: m["unit_code"])
    by_collector, _ = coverage(members, key=lambda m: m["collector_name"] or UNASSIGNED)
    return {"plan": plan, "members": members, "total": total,
            "by_unit": sorted(by_unit.items()), "by_collector": sorted(by_collector.items()),
            "out_of_scope": [row for row in out_of_scope(db, plan["id"])
                             if within is None or row["unit_code"] in within]}


def out_of_scope(db, plan_id: int) -> list[dict]:
    """Assignments a surveyor cannot answer (their unit scope does not hold the member's unit;
    made before such assignments were refused): {collector, collector_unit, unit_code, members}."""
    subtrees: dict[str, set[str]] = {}
    found = []
    for name, scope, unit_code, count in sampling.assignments_by_unit(db, plan_id):
        if scope is None:
            continue
        if scope not in subtrees:
            subtrees[scope] = units.subtree_codes(db, scope)
        if unit_code not in subtrees[scope]:
            found.append({"collector": name, "collector_unit": scope, "unit_code": unit_code, "members": count})
    return found


def members_within(db, plan: dict, within: set[str] | None) -> list[dict]:
    """The plan's members with their status, of the units in `within` only when given."""
    return [m for m in plan_status(db, plan) if within is None or m["unit_code"] in within]


def plan_in_period(plan: dict, period: periods.Period) -> bool:
    """The plan's period lies inside `period` (a quarter's plan shows in that year's report)."""
    own = periods.parse_period(plan["period"])
    return period.start <= own.start and own.end <= period.end


def plans_for_report(db, form_id: str, period: periods.Period, unit: str | None) -> list[dict]:
    """Coverage of the live plans of a form inside a report's period, within a unit's subtree."""
    within = units.subtree_codes(db, unit) if unit else None
    found = []
    for plan in sampling.list_plans(db):
        if plan["form_id"] != form_id or not plan_in_period(plan, period):
            continue
        result = plan_coverage(db, plan, within)
        if result["members"]:
            found.append(result)
    return found


def rate_text(value) -> str:
    """A share as a Vietnamese percentage with one decimal (72,5%); '' when undefined."""
    return "" if value is None else f"{float(value) * 100:.1f}%".replace(".", ",")

