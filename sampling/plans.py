"""Drawing a sample plan from the register and storing it, with errors a reporter can act on."""
from __future__ import annotations

import secrets
from fractions import Fraction

from aggregate import periods
from storage import forms, registers, sampling, units
from storage.errors import BilingualError

from .draw import DEFAULT_MARGIN, DEFAULT_RESERVE_PERCENT, SampleRule, draw

MAX_FIXED_SIZE = 100_000


class PlanError(BilingualError):
    """A sample plan that cannot be drawn as asked."""


def parse_rule(*, method: str, margin: str | None, fixed_size: str | int | None, by_field: bool,
               reserve_percent: str | int | None, seed: str | None) -> SampleRule:
    """A sampling rule from what a person typed; PlanError names the field that is wrong."""
    if method not in ("formula", "fixed"):
        raise PlanError("Cách tính cỡ mẫu phải là 'formula' (công thức) hoặc 'fixed' (cố định).",
                        "The sample size method must be 'formula' or 'fixed'.")
    e = size = None
    if method == "formula":
        try:
            e = Fraction(str(margin or DEFAULT_MARGIN).strip().replace(",", "."))
        except (ValueError, ZeroDivisionError):
            e = None
        if e is None or not Fraction(1, 1000) <= e <= Fraction(1, 2):
            raise PlanError("Sai số e phải là số từ 0,001 đến 0,5 (ví dụ 0,05 cho 5%).",
                            "The margin e must be a number from 0.001 to 0.5 (e.g. 0.05 for 5%).")
    else:
        size = _whole(fixed_size, 1, MAX_FIXED_SIZE,
                      f"Cỡ mẫu cố định phải là số nguyên từ 1 đến {MAX_FIXED_SIZE}.",
                      f"The fixed sample size must be a whole number from 1 to {MAX_FIXED_SIZE}.")
    reserve = _whole(DEFAULT_RESERVE_PERCENT if reserve_percent in (None, "") else reserve_percent, 0, 100,
                     "Tỷ lệ dự phòng phải là số nguyên từ 0 đến 100 (%).",
                     "The reserve must be a whole percentage from 0 to 100.")
    seed = (seed or "").strip() or secrets.token_hex(4)
    if len(seed) > 64 or not seed.isprintable():
        raise PlanError("Hạt giống (seed) tối đa 64 ký tự in được.", "The seed is at most 64 printable characters.")
    return SampleRule(method, e, size, bool(by_field), reserve, seed)


def _whole(value, low: int, high: int, vi: str, en: str) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise PlanError(vi, en) from None
    if not low <= number <= high:
        raise PlanError(vi, en)
    return number


def create(db, *, form_id: str, period: str, unit_code: str | None, rule: SampleRule,
           actor: str | None, scope: str | None = None) -> int:
    """Draw the plan of a form for a period and a unit's subtree (None: the province)."""
    if forms.get_form(db, form_id) is None:
        raise PlanError(f"Không có biểu mẫu {form_id}.", f"There is no form {form_id}.")
    try:
        chosen = periods.parse_period(period)
    except ValueError:
        raise PlanError("Kỳ khảo sát không hợp lệ: dùng 2026-07 (tháng), 2026-Q3 (quý), 2026-H2 hoặc 2026.",
                        "Invalid period: use 2026-07 (month), 2026-Q3 (quarter), 2026-H2 or 2026.") from None
    unit_code = unit_code or scope
    if unit_code is not None:
        if units.get_unit(db, unit_code) is None:
            raise PlanError(f"Không có đơn vị mã {unit_code}.", f"There is no unit {unit_code}.")
        if scope is not None and unit_code not in units.subtree_codes(db, scope):
            raise PlanError("Đơn vị nằm ngoài phạm vi của tài khoản.", "The unit is outside your account's scope.")
    within = units.subtree_codes(db, unit_code) if unit_code else None
    population = registers.returned_between(db, chosen.start, chosen.end, within)
    if not population:
        raise PlanError(
            f"Sổ theo dõi không có hồ sơ nào trả kết quả trong {chosen.label('vi')} thuộc phạm vi này. "
            "Hãy nhập sổ theo dõi hồ sơ trước.",
            f"The register has no dossier returned in {chosen.label('en')} within this scope. "
            "Import the dossier register first.")
    strata, members = draw(population, rule)
    plan = {"form_id": form_id, "period": chosen.key, "unit_code": unit_code, "method": rule.method,
            "margin": decimal_text(rule.margin) if rule.margin is not None else None, "fixed_size": rule.fixed_size,
            "by_field": int(rule.by_field), "reserve_percent": rule.reserve_percent, "seed": rule.seed}
    try:
        return sampling.create_plan(db, plan, strata, members, actor)
    except sampling.PlanExists as exc:
        raise PlanError(
            f"Đã có kế hoạch chọn mẫu số {exc.plan_id} cho biểu mẫu, kỳ và đơn vị này; hãy huỷ nó trước khi chọn lại.",
            f"Plan {exc.plan_id} already covers this form, period and unit; withdraw it before drawing again.") from None


def decimal_text(value: Fraction) -> str:
    """0.05 rather than 1/20, as people write a margin; exact, since Fraction reads both back."""
    for places in range(7):
        scaled = value * 10 ** places
        if scaled.denominator == 1:
            return f"{value.numerator / value.denominator:.{places}f}" if places else str(scaled.numerator)
    return str(value)


def rule_of(plan: dict) -> SampleRule:
    """The rule a stored plan was drawn by, to draw it again."""
    return SampleRule(plan["method"], Fraction(plan["margin"]) if plan["margin"] else None, plan["fixed_size"],
                      bool(plan["by_field"]), plan["reserve_percent"], plan["seed"])


def assign(db, plan_id: int, collectors: list[dict], actor: str | None, *,
           unit_codes: set[str] | None = None) -> int:
    """Share the members of the plan's units (these, or all) among surveyors (users rows; none
    unassigns). Refused when a surveyor's unit scope does not hold one of those units: the list
    would reach their phone and every answer to it be refused."""
    chosen = unit_codes if unit_codes is not None else {s["unit_code"] for s in sampling.plan_strata(db, plan_id)}
    for collector in collectors:
        scope = collector["unit_code"]
        if scope is None:
            continue
        outside = sorted(chosen - units.subtree_codes(db, scope))
        if outside:
            raise PlanError(
                f"Điều tra viên {collector['name']} chỉ thu phiếu cho đơn vị {scope} và các đơn vị trực thuộc; "
                f"không giao được hồ sơ của đơn vị {', '.join(outside)}.",
                f"Surveyor {collector['name']} collects only for unit {scope} and the units under it; "
                f"the dossiers of unit {', '.join(outside)} cannot be assigned to them.")
    return sampling.assign(db, plan_id, [c["id"] for c in collectors], actor, unit_codes=unit_codes)
