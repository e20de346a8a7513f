"""Withdrawing a sample plan (the page and `flask sample withdraw`); drawing and assigning are
sampling.plans'. The plan, its withdrawal and the audit entry are written by storage.sampling in
one transaction; the submissions received for it stay."""
from __future__ import annotations

from storage import sampling


def withdraw(db, plan_id: int, actor: str | None) -> bool:
    """Withdraw a live plan; False when there is no live plan of that id."""
    return sampling.withdraw_plan(db, plan_id, actor)
