"""The public results page (/ket-qua): what reporters chose to publish, for anyone, without login.

It shows only live publications, and from each only its snapshot (storage.publications): indices
of the cells with at least min_n respondents, never an answer, a comment or an identifier, and
never a number computed now. It needs no cookie: the language is a query parameter (?lang=en),
the pages have no form to protect, and the layout (public/base.html) is not the signed-in one.
"""
from __future__ import annotations

from flask import abort, g, render_template, request

from aggregate import periods
from aggregate.published import period_order
from storage import publications

from ..dbconn import get_db
from .common import ERRORS, web_blueprint
from .i18n import LANGUAGES, lang, t

bp = web_blueprint("public", __name__, login=False)


@bp.before_request
def choose_language():
    chosen = request.args.get("lang")
    g.page_lang = chosen if chosen in LANGUAGES else "vi"


def _error(exc):
    code = exc.code or 500
    title_vi, title_en, text_vi, text_en = ERRORS.get(code, ("Lỗi", "Error", "Đã có lỗi xảy ra.", "Something went wrong."))
    return render_template("public/error.html", code=code, title=t(title_vi, title_en),
                           message=t(text_vi, text_en)), code


@bp.app_template_global("period_label")
def period_label(key: str) -> str:
    """'2026-Q3' -> 'Quý III/2026' (or 'Q3 2026'): a period key in the page language."""
    try:
        return periods.parse_period(key).label(lang())
    except ValueError:
        return key


# the signed-in error page carries the language form and its CSRF token, hence a cookie
for _code in ERRORS:
    bp.register_error_handler(_code, _error)


@bp.get("/ket-qua")
def index():
    forms = publications.published_forms(get_db())
    for form in forms:
        form["periods"].sort(key=period_order)
    return render_template("public/index.html", forms=forms)


@bp.get("/ket-qua/<form_id>")
def form(form_id):
    db = get_db()
    period = request.args.get("period") or None
    shown = publications.live(db, form_id)
    if not shown:
        abort(404)
    periods = sorted({p["period"] for p in shown}, key=period_order)
    if period is not None and period not in periods:
        abort(404)
    period = period or periods[0]
    return render_template("public/form.html", form_id=form_id, title=shown[0]["form_title"],
                           publications=[p for p in shown if p["period"] == period],
                           periods=periods, period=period)
