"""Administration: accounts, collectors' devices, the unit tree and the audit log.

Administrators only. An administrator bound to a unit manages the accounts of that unit's
subtree and creates accounts only there; importing the unit tree, which can move any unit, is
for province-wide administrators.
"""
from __future__ import annotations

import base64

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for

from actions import settings as settings_actions
from actions.settings import SETTING as PUBLIC_ADDRESS, AddressRefused
from actions.accounts import AccountRefused, create_account, reset_password, revoke_account, unlock_account
from actions.units import import_successors, import_units, preview_units, read_successors
from exports.report import REPORT_SETTINGS
from storage import browse, settings
from storage import units as unit_store

from .. import auth, public_address
from ..collect_settings import collector_qr_png, collector_url
from ..dbconn import get_db
from ..permissions import can
from ..public_address import public_base
from .common import user_scope, web_blueprint
from .i18n import t

bp = web_blueprint("admin", __name__, url_prefix="/admin")

# least power first, so the form's default is the safe choice; surveyors are made by
# `_create_collector` whichever tab asks, so that the token URL and QR code are always shown
PASSWORD_ROLES = ("viewer", "reporter", "designer", "admin")
AUDIT_PAGE_SIZE = 50


# the action each page is; every page of this blueprint is one of them
_ACTIONS = {"units_page": "unit.import", "units_preview": "unit.import", "units_import": "unit.import",
            "audit_log": "audit.read", "settings_page": "settings.manage", "settings_save": "settings.manage"}


@bp.before_request
def _action_permitted():
    if not can(g.user, _ACTIONS.get((request.endpoint or "").rsplit(".", 1)[-1], "account.manage")):
        abort(403)


def _refused(exc: AccountRefused) -> None:
    flash(t(exc.vi, exc.en), "error")


def _unit_choice(form_value: str | None) -> str | None:
    """The unit picked in a form, which must lie in the administrator's scope.

    A unit-bound administrator cannot create a province-wide account (no unit).
    """
    code = (form_value or "").strip() or None
    if code is None:
        if user_scope() is not None:
            raise AccountRefused("Hãy chọn đơn vị cho tài khoản.", "Choose the account's unit.")
        return None
    if not browse.unit_in_scope(get_db(), code, user_scope()):
        raise AccountRefused(f'Đơn vị "{code}" nằm ngoài phạm vi quản lý của bạn.',
                             f'Unit "{code}" is outside the scope you manage.')
    return code


def _managed_user(name: str) -> dict:
    user = browse.user_in_scope(get_db(), name, user_scope())
    if user is None:
        abort(404)
    return user


@bp.get("/")
def index():
    return redirect(url_for("admin.users"))


# --- accounts ------------------------------------------------------------------------------

@bp.get("/users")
def users():
    return _render_users()


def _render_users(status: int = 200, form: dict | None = None):
    db = get_db()
    accounts = browse.users_in_scope(db, user_scope(), collectors=False)
    locked = auth.locked_out(db, [a["name"] for a in accounts])
    for account in accounts:
        account["locked"] = account["name"] in locked
    return render_template("admin/users.html",
                           accounts=accounts,
                           units=browse.units_in_scope(db, user_scope(), in_force=True), roles=PASSWORD_ROLES,
                           form=form or {}), status


@bp.post("/users")
def create_user():
    form = request.form
    if form.get("role") == "collector":
        return _create_collector(form)
    try:
        unit = _unit_choice(form.get("unit"))
        role = form.get("role", "")
        if role not in PASSWORD_ROLES:
            raise AccountRefused("Hãy chọn vai trò.", "Choose a role.")
        if form.get("password", "") != form.get("password_again", ""):
            raise AccountRefused("Hai lần nhập mật khẩu không khớp.", "The two passwords differ.")
        create_account(get_db(), name=form.get("name", "").strip(), role=role, unit_code=unit,
                       password=form.get("password", ""), actor=g.user["name"])
    except AccountRefused as exc:
        _refused(exc)
        return _render_users(400, {"name": form.get("name", ""), "role": form.get("role"),
                                   "unit": form.get("unit")})
    flash(t(f"Đã tạo tài khoản {form['name'].strip()}.", f"Created account {form['name'].strip()}."), "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<name>/password")
def user_password(name):
    user = _managed_user(name)
    try:
        if request.form.get("password", "") != request.form.get("password_again", ""):
            raise AccountRefused("Hai lần nhập mật khẩu không khớp.", "The two passwords differ.")
        reset_password(get_db(), name=user["name"], password=request.form.get("password", ""),
                       actor=g.user["name"])
    except AccountRefused as exc:
        _refused(exc)
        return _render_users(400)
    flash(t(f"Đã đặt mật khẩu mới cho {name}; các phiên đăng nhập cũ của tài khoản này đã kết thúc "
            "và tài khoản không còn bị khoá.",
            f"New password set for {name}; the account's open sessions have ended and it is no longer "
            "locked."), "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<name>/unlock")
def user_unlock(name):
    user = _managed_user(name)
    unlock_account(get_db(), name=user["name"], actor=g.user["name"])
    flash(t(f"Đã mở khoá {name}: các lần đăng nhập sai trước đây không còn được tính.",
            f"Unlocked {name}: earlier failed logins no longer count."), "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<name>/revoke")
def user_revoke(name):
    user = _managed_user(name)
    back = "admin.collectors" if request.form.get("from") == "collectors" else "admin.users"
    if user["id"] == g.user["id"]:
        flash(t("Bạn không thể tự thu hồi tài khoản của mình.", "You cannot revoke your own account."), "error")
        return redirect(url_for(back))
    if request.form.get("confirm") != "yes":
        flash(t("Hãy đánh dấu ô xác nhận trước khi thu hồi.", "Tick the confirmation box before revoking."), "error")
        return redirect(url_for(back))
    try:
        revoke_account(get_db(), name=user["name"], actor=g.user["name"])
    except AccountRefused as exc:
        _refused(exc)
        return redirect(url_for(back))
    flash(t(f"Đã thu hồi {name}.", f"Revoked {name}."), "success")
    return redirect(url_for(back))


# --- collectors ----------------------------------------------------------------------------

def _server_base() -> str:
    return public_base(get_db())


def _render_collectors(status: int = 200, created: dict | None = None, form: dict | None = None):
    db = get_db()
    return render_template("admin/collectors.html",
                           collectors=browse.users_in_scope(db, user_scope(), collectors=True),
                           units=browse.units_in_scope(db, user_scope(), in_force=True), created=created,
                           server_base=_server_base(), form=form or {}), status


@bp.get("/collectors")
def collectors():
    return _render_collectors()


@bp.post("/collectors")
def create_collector():
    return _create_collector(request.form)


def _create_collector(form):
    name = form.get("name", "").strip()
    try:
        unit = _unit_choice(form.get("unit"))
        account = create_account(get_db(), name=name, role="collector", unit_code=unit, password=None,
                                 actor=g.user["name"])
    except AccountRefused as exc:
        _refused(exc)
        return _render_collectors(400, form={"name": name, "unit": form.get("unit")})
    url = collector_url(_server_base(), account.token)
    qr = base64.b64encode(collector_qr_png(url)).decode("ascii")
    # the token is shown this once (only its digest is stored), so the page itself is the record
    return _render_collectors(200, created={"name": name, "url": url,
                                            "qr_data_uri": f"data:image/png;base64,{qr}"})


# --- settings ------------------------------------------------------------------------------

@bp.get("/settings")
def settings_page():
    return _render_settings()


def _render_settings(status: int = 200, typed: str | None = None):
    db = get_db()
    stored = settings.get_setting(db, PUBLIC_ADDRESS)
    report = [{"key": key, "value": value, "default": default, "label": t(vi, en)}
              for (key, default, vi, en), value in zip(REPORT_SETTINGS, settings.get_settings(
                  db, [k for k, *_ in REPORT_SETTINGS]).values())]
    return render_template("admin/settings.html", stored=stored if typed is None else typed, report=report,
                           env_url=current_app.config.get("PUBLIC_URL"), effective=public_address.public_base(db),
                           request_base=request.host_url.rstrip("/")), status


@bp.post("/settings")
def settings_save():
    # a province-wide setting: unit-bound administrators may read it, not change it
    if user_scope() is not None:
        abort(403)
    if request.form.get("section") == "report":
        settings_actions.save_report(get_db(), request.form, actor=g.user["name"])
        flash(t("Đã lưu phần đầu và phần ký của báo cáo.", "Saved the report's header and signature."), "success")
        return redirect(url_for("admin.settings_page"))
    typed = request.form.get("public_url", "")
    try:
        value = settings_actions.save_public_address(get_db(), typed, actor=g.user["name"])
    except AddressRefused as exc:
        flash(t(exc.vi, exc.en), "error")
        return _render_settings(400, typed)
    if value:
        flash(t(f"Đã lưu địa chỉ công khai {value}; mọi mã QR, thư mời, áp phích và đường dẫn dùng địa chỉ này.",
                f"Saved the public address {value}; every QR code, letter, poster and link uses it."), "success")
    else:
        flash(t("Đã xoá địa chỉ công khai đã lưu.", "Removed the stored public address."), "success")
    return redirect(url_for("admin.settings_page"))


# --- unit tree -----------------------------------------------------------------------------

def _units_page(status: int = 200, errors=(), preview: dict | None = None):
    db = get_db()
    scope = user_scope()
    listed = browse.units_in_scope(db, scope)
    codes = {u["code"] for u in listed}
    versions = {v["key"]: v for v in unit_store.all_versions(db) if v["code"] in codes}
    history = [{**v, "successor": versions.get(v["successor_key"] or "")}
               for v in versions.values() if v["retired_on"] or v["valid_from"]]
    history.sort(key=lambda v: (v["retired_on"] or "9999", v["code"], v["valid_from"] or ""))
    return render_template("admin/units.html", units=[u for u in listed if u["retired_on"] is None],
                           history=history, can_import=scope is None, errors=list(errors),
                           preview=preview), status


@bp.get("/units")
def units_page():
    return _units_page()


def _upload() -> tuple[str, str | None, bytes]:
    """(kind, date in force, content) of an upload, or of the file a preview showed (sent
    back whole: what is applied is what was previewed, checked again)."""
    kind = "successors" if request.form.get("kind") == "successors" else "list"
    valid_from = (request.form.get("valid_from") or "").strip() or None
    shown = request.form.get("content")
    if shown:
        try:
            return kind, valid_from, base64.b64decode(shown.encode("ascii"), validate=True)
        except (ValueError, UnicodeEncodeError):
            return kind, valid_from, b""
    upload = request.files.get("file")
    return kind, valid_from, upload.read() if upload else b""


def _tree_upload() -> tuple[str, str | None, bytes] | None:
    """The upload of a province-wide administrator (the tree can move any unit); None, with a
    message, when no file came."""
    if user_scope() is not None:
        abort(403)
    kind, valid_from, data = _upload()
    if not data:
        flash(t("Hãy chọn tệp CSV.", "Choose the CSV file."), "error")
        return None
    return kind, valid_from, data


@bp.post("/units/preview")
def units_preview():
    upload = _tree_upload()
    if upload is None:
        return redirect(url_for("admin.units_page"))
    kind, valid_from, data = upload
    db = get_db()
    if kind == "successors":
        pairs, errors = read_successors(db, data)
        changes = {"pairs": [{"old": old, "new": new} for old, new in pairs]}
    else:
        changes, errors = preview_units(db, data, valid_from)
        changes.pop("rows", None)
    if errors:
        return _units_page(400, errors)
    return _units_page(preview={"kind": kind, "valid_from": valid_from, "changes": changes,
                                "content": base64.b64encode(data).decode("ascii")})


@bp.post("/units")
def units_import():
    upload = _tree_upload()
    if upload is None:
        return redirect(url_for("admin.units_page"))
    kind, valid_from, data = upload
    if kind == "successors":
        count, errors = import_successors(get_db(), data, actor=g.user["name"])
    else:
        count, errors = import_units(get_db(), data, actor=g.user["name"], valid_from=valid_from)
    if errors:
        flash(t("Không nhập đơn vị nào vì tệp có lỗi; hãy sửa các dòng dưới đây rồi tải lên lại.",
                "Nothing was imported because the file has errors; fix the rows below and upload again."), "error")
        return _units_page(400, errors)
    if kind == "successors":
        flash(t(f"Đã ghi {count} đơn vị kế thừa.", f"Recorded {count} successors."), "success")
    else:
        flash(t(f"Đã nhập {count} đơn vị.", f"Imported {count} units."), "success")
    return redirect(url_for("admin.units_page"))


# --- audit log -----------------------------------------------------------------------------

@bp.get("/audit")
def audit_log():
    before = request.args.get("before", type=int)
    rows, more = browse.audit_page(get_db(), user_scope(), before_id=before, limit=AUDIT_PAGE_SIZE)
    return render_template("admin/audit.html", rows=rows, older=rows[-1]["id"] if more and rows else None,
                           first_page=before is None)


ADMIN_TABS = [("admin.users", "Tài khoản", "Accounts"), ("admin.collectors", "Điều tra viên", "Surveyors"),
              ("admin.units_page", "Đơn vị", "Units"), ("admin.audit_log", "Nhật ký", "Audit log"),
              ("admin.settings_page", "Cài đặt", "Settings")]


@bp.app_context_processor
def _tabs():
    return {"admin_tabs": ADMIN_TABS}
