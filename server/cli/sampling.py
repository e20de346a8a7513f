"""`flask --app server sample ...`: sample plans, assignments, coverage.

    sample draw tthc_hailong --period 2026-Q4 [--unit 474] [--method fixed --size 30] [--seed S]
    sample list
    sample assign PLAN --collector dtv_hue [--collector ...] [--unit 474 ...]
    sample coverage PLAN
    sample withdraw PLAN
"""
from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from actions import plans as plan_actions
from sampling import coverage as cover
from sampling import plans
from storage import sampling, users

from .common import _db, _fail

sample_cli = AppGroup("sample", help="Chọn mẫu khảo sát / Sample plans.")


@sample_cli.command("draw")
@with_appcontext
@click.argument("form_id")
@click.option("--period", required=True, help="Kỳ / period: 2026-10, 2026-Q4, 2026-H2, 2026.")
@click.option("--unit", help="Đơn vị và các đơn vị trực thuộc (mặc định toàn tỉnh) / unit subtree (default: province).")
@click.option("--method", type=click.Choice(["formula", "fixed"]), default="formula", show_default=True)
@click.option("--margin", default=None, help="Sai số e của công thức / margin e (default 0.05).")
@click.option("--size", "fixed_size", default=None, help="Cỡ mẫu cố định mỗi đơn vị / fixed size per unit.")
@click.option("--by-field", is_flag=True, help="Phân tầng theo lĩnh vực / also stratify by field.")
@click.option("--reserve", "reserve_percent", default=None, help="Dự phòng, % cỡ mẫu / reserve, % (default 20).")
@click.option("--seed", default=None, help="Hạt giống ngẫu nhiên / random seed (default: made for you).")
@click.option("--actor", default=None)
def draw_command(form_id, period, unit, method, margin, fixed_size, by_field, reserve_percent, seed, actor):
    """Chọn mẫu từ sổ theo dõi hồ sơ / Draw a sample from the register."""
    db = _db()
    try:
        rule = plans.parse_rule(method=method, margin=margin, fixed_size=fixed_size, by_field=by_field,
                                reserve_percent=reserve_percent, seed=seed)
        plan_id = plans.create(db, form_id=form_id, period=period, unit_code=unit, rule=rule, actor=actor)
    except plans.PlanError as exc:
        _fail(f"{exc.vi}\n{exc.en}")
    for s in sampling.plan_strata(db, plan_id):
        click.echo(f"  {s['unit_code']:<10} {s['procedure_field'] or '-':<24} N={s['population']:<6} "
                   f"n={s['size']:<5} reserve={s['reserve']}")
    click.echo(f"Kế hoạch {plan_id}, hạt giống {rule.seed}. / Plan {plan_id}, seed {rule.seed}.")


@sample_cli.command("list")
@with_appcontext
def list_command():
    """Các kế hoạch chọn mẫu / Sample plans."""
    for p in sampling.list_plans(_db(), include_withdrawn=True):
        state = f"withdrawn {p['withdrawn_at']}" if p["withdrawn_at"] else "live"
        click.echo(f"{p['id']:>4}  {p['form_id']}  {p['period']}  {p['unit_code'] or 'tinh'}  "
                   f"n={p['size']} reserve={p['reserve']}  seed={p['seed']}  {state}")


@sample_cli.command("assign")
@with_appcontext
@click.argument("plan_id", type=int)
@click.option("--collector", "collectors", multiple=True, help="Điều tra viên (lặp lại) / surveyor (repeat); none unassigns.")
@click.option("--unit", "unit_codes", multiple=True, help="Chỉ các đơn vị này / only these units (repeat).")
@click.option("--actor", default=None)
def assign_command(plan_id, collectors, unit_codes, actor):
    """Giao hồ sơ được chọn cho điều tra viên / Assign a plan's dossiers to surveyors."""
    db = _db()
    plan = sampling.get_plan(db, plan_id)
    if plan is None or plan["withdrawn_at"]:
        _fail(f"Không có kế hoạch {plan_id} đang dùng.\nThere is no live plan {plan_id}.")
    chosen = []
    for name in collectors:
        user = users.get_user_by_name(db, name)
        if user is None or user["role"] != "collector" or user["revoked_at"]:
            _fail(f"{name} không phải điều tra viên đang hoạt động.\n{name} is not an active surveyor.")
        chosen.append(user)
    try:
        count = plans.assign(db, plan_id, chosen, actor, unit_codes=set(unit_codes) or None)
    except plans.PlanError as exc:
        _fail(f"{exc.vi}\n{exc.en}")
    click.echo(f"Đã giao {count} hồ sơ. / {count} dossiers assigned.")


@sample_cli.command("coverage")
@with_appcontext
@click.argument("plan_id", type=int)
def coverage_command(plan_id):
    """Độ bao phủ theo đơn vị và điều tra viên / Coverage by unit and surveyor."""
    db = _db()
    plan = sampling.get_plan(db, plan_id)
    if plan is None:
        _fail(f"Không có kế hoạch {plan_id}.\nThere is no plan {plan_id}.")
    result = cover.plan_coverage(db, plan)
    header = "planned reserves_used reached refused unreachable pending response_rate completion"
    for title, rows in (("unit", result["by_unit"]), ("collector", result["by_collector"])):
        click.echo(f"{title:<14} {header}")
        for key, c in rows + [("TOTAL", result["total"])]:
            click.echo(f"{key or '-':<14} {c.planned:>7} {c.reserves_used:>13} {c.reached:>7} {c.refused:>7} "
                       f"{c.unreachable:>11} {c.pending:>7} {cover.rate_text(c.response_rate):>13} "
                       f"{cover.rate_text(c.completion):>10}")
        click.echo()
    for row in result["out_of_scope"]:
        click.echo(f"Ngoài phạm vi / out of scope: {row['collector']} (đơn vị / unit {row['collector_unit']}) "
                   f"giữ / holds {row['members']} hồ sơ / dossiers của / of {row['unit_code']}: "
                   "giao lại / assign again")


@sample_cli.command("withdraw")
@with_appcontext
@click.argument("plan_id", type=int)
@click.option("--actor", default=None)
def withdraw_command(plan_id, actor):
    """Huỷ kế hoạch (phiếu đã nhận giữ nguyên) / Withdraw a plan (submissions stay)."""
    if not plan_actions.withdraw(_db(), plan_id, actor):
        _fail(f"Không có kế hoạch {plan_id} đang dùng.\nThere is no live plan {plan_id}.")
    click.echo(f"Đã huỷ kế hoạch {plan_id}. / Plan {plan_id} withdrawn.")
