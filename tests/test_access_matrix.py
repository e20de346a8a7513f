"""Who gets what on every route: an explicit table, role × unit scope → status.

`test_every_route_is_in_the_table` walks the app's URL map and fails for any route and method
that no table names, so a new route cannot go out unchecked: give it an entry in ROUTES below
(or in tests/test_web_access.py, whose ROUTES and POST_ROUTES already hold the web pages of
submissions, questionnaires and administration, each role × scope; they count as entries here).

Roles: the accounts of tests/web_site.py (units 474 and 481) plus
  anonymous       no credentials at all
  forged          a token nobody was given / Basic credentials of nobody
  revoked         a revoked collector's token / Basic credentials of a revoked designer
  collector_a     token of dtv_hue (474) on token URLs; elsewhere Basic of thu_ky (collector, 474)
  collector_tinh  token of dtv_tinh (province-wide); has no password, so token URLs only
Web roles sign in through the login page; on the OpenRosa routes, which read no session, they use
Basic authentication as Collect would. Unit scope is tested through `tthc_aluoi`, the standard
questionnaire published for unit 481 (A Lưới): outside the scope of every 474 account.
"""
from __future__ import annotations

import io
import itertools
import random
import uuid
from dataclasses import dataclass
from typing import Callable

import openpyxl
import pytest

import test_web_access
from tests.harness.instances import fill_instance, standard_answers
from tests.harness.site import PASSWORD, ROOT, cli, create_password_user
from server.permissions import roles_with
from storage import forms
from web_site import ACCOUNTS, UNIT_B, csrf_token, login, signed_in

WEB_ACCOUNTS = {"viewer_a": "xem_hue", "viewer_b": "xem_aluoi", "reporter": "reporter",
                "reporter_a": "reporter_hue", "designer": "designer", "designer_a": "designer_hue",
                "admin": "admin", "admin_a": "admin_hue"}
ROLES = ("anonymous", "forged", "revoked", "collector_a", "collector_tinh", *WEB_ACCOUNTS)
ALL_WEB = set(WEB_ACCOUNTS)
SEES_B = {"viewer_b", "reporter", "designer", "admin"}            # province-wide or bound to 481
ROLE_OF = {account: ACCOUNTS[name][0] for account, name in WEB_ACCOUNTS.items()}
N_A = None      # the role cannot make this request (e.g. a web account has no token)

OUT_FORM = "tthc_aluoi"
ZERO_SHA = "0" * 64


@dataclass
class Route:
    method: str
    path: str                                    # placeholders: {token} {version} {b_sid} {plan_b}
    expect: dict[str, int | None]
    data: Callable[["Matrix"], dict] | None = None
    notes: str = ""
    fresh_session: bool = False      # the request ends or changes the session: sign in anew for it
    body: Callable[["Matrix"], tuple[bytes, str]] | None = None   # a raw body and its content type


def table(**groups) -> dict[str, int | None]:
    """Expectations by role, from groups: any role named directly, plus
    web=<status for every web account>, token=<status for both collectors' tokens>."""
    out: dict[str, int | None] = {}
    for key, value in groups.items():
        if key == "web":
            out.update({r: value for r in ALL_WEB if r not in out})
        elif key == "seen_by_b":       # web accounts that see unit 481: value[0], the others value[1]
            out.update({r: value[0] if r in SEES_B else value[1] for r in ALL_WEB if r not in out})
        else:
            out[key] = value
    missing = set(ROLES) - set(out)
    assert not missing, f"no expectation for {sorted(missing)}"
    return out


def web_page(ok=200, **over):
    """A signed-in page: anonymous, forged and revoked go to the login page; surveyors are refused."""
    return table(**{"anonymous": 302, "forged": 302, "revoked": 302, "collector_a": 403, "collector_tinh": N_A,
                    **over, "web": over.pop("web", ok) if "web" in over else ok})


def openrosa(ok, *, scoped: bool, **over):
    """Collect's routes without a token: Basic for admins, designers and collectors; others 403."""
    hidden = 404 if scoped else ok
    base = {"anonymous": 401, "forged": 401, "revoked": 401, "collector_a": hidden, "collector_tinh": N_A,
            "viewer_a": 403, "viewer_b": 403, "reporter": 403, "reporter_a": 403,
            "designer": ok, "designer_a": hidden, "admin": ok, "admin_a": hidden}
    base.update(over)
    return table(**base)


def token_route(ok, *, scoped: bool, **over):
    base = {"anonymous": N_A, "forged": 401, "revoked": 401, "collector_a": 404 if scoped else ok,
            "collector_tinh": ok, **{r: N_A for r in ALL_WEB}}
    base.update(over)
    return table(**base)


def api(ok=200):
    """/api/v1: readers of figures; a form of 481 is unknown (404) to accounts of 474."""
    return table(anonymous=401, forged=401, revoked=401, collector_a=403, collector_tinh=N_A,
                 seen_by_b=(ok, 404))


def central(ok=200, *, scoped: bool = True, collector=403, **over):
    """/v1 (Central's API): Basic for every account, never the web session; a form of 481 is
    unknown (404) to accounts of 474."""
    base = {"anonymous": 401, "forged": 401, "revoked": 401, "collector_a": collector, "collector_tinh": N_A}
    base.update({r: (ok if r in SEES_B or not scoped else 404) for r in ALL_WEB})
    base.update(over)
    return table(**base)


def public(ok=200):
    return table(anonymous=ok, forged=ok, revoked=ok, collector_a=ok, collector_tinh=N_A, web=ok)


def _central_xml(m: "Matrix") -> tuple[bytes, str]:
    xml = fill_instance(m.out_xform, standard_answers(random.Random(), UNIT_B, "huyen"), f"uuid:{uuid.uuid4()}")
    return xml, "application/xml"


def _submission(m: "Matrix") -> dict:
    """A new submission of the 481 form, answering for 481."""
    xml = fill_instance(m.out_xform, standard_answers(random.Random(), UNIT_B, "huyen"), f"uuid:{uuid.uuid4()}")
    return {"xml_submission_file": (io.BytesIO(xml), "submission.xml", "text/xml")}


FORM_URL = f"/forms/{OUT_FORM}/versions/{{version}}"


def accounts_with(action: str) -> tuple[str, ...]:
    """The web accounts whose role may do `action`, read from the server's own table
    (server/permissions.py): the statuses below then say what each of them gets."""
    return tuple(account for account in WEB_ACCOUNTS if ROLE_OF[account] in roles_with(action))


LINK_ROLES = accounts_with("link.manage")
ENTRY_ROLES = accounts_with("paper.enter")
LINKS_SCOPED = {r: 200 if r in SEES_B else 404 for r in LINK_ROLES} | {"viewer_a": 403, "viewer_b": 403}
LINKS_SCOPED_POST = {r: 302 if r in SEES_B else 404 for r in LINK_ROLES}
ENTRY_SCOPED = {r: 200 if r in SEES_B else 404 for r in ENTRY_ROLES}
SAMPLERS = accounts_with("plan.manage")
SAMPLERS_OK = {r: 200 for r in SAMPLERS}
IMPORTERS = accounts_with("register.import")
PLAN_B = {"reporter": 200, "admin": 200, "reporter_a": 404, "admin_a": 404}
PLAN_B_POST = {"reporter": 302, "admin": 302, "reporter_a": 404, "admin_a": 404}
EDITOR_POST = {"reporter": 404, "admin": 404, "reporter_a": 404, "admin_a": 404}   # dashboard: then scope or content

ROUTES: dict[tuple[str, str], Route] = {
    # --- Collect (OpenRosa), Basic authentication ---
    ("openrosa.form_list", "GET"): Route("GET", "/formList", openrosa(200, scoped=False)),
    ("openrosa.form_xml", "GET"): Route("GET", FORM_URL + "/form.xml", openrosa(200, scoped=True)),
    ("openrosa.manifest", "GET"): Route("GET", FORM_URL + "/manifest", openrosa(200, scoped=True)),
    ("openrosa.media_file", "GET"): Route("GET", FORM_URL + "/media/units.csv", openrosa(200, scoped=True)),
    ("openrosa.submission_probe", "GET"): Route("GET", "/submission", openrosa(204, scoped=False)),
    ("openrosa.submission", "POST"): Route("POST", "/submission", openrosa(201, scoped=False, collector_a=403,
                                                                           designer_a=403, admin_a=403),
                                           _submission, "out of scope: 403 (forbidden_form)"),
    # --- Collect with the token in the URL ---
    ("openrosa_key.form_list", "GET"): Route("GET", "/key/{token}/formList", token_route(200, scoped=False)),
    ("openrosa_key.form_xml", "GET"): Route("GET", "/key/{token}" + FORM_URL + "/form.xml",
                                            token_route(200, scoped=True)),
    ("openrosa_key.manifest", "GET"): Route("GET", "/key/{token}" + FORM_URL + "/manifest",
                                            token_route(200, scoped=True)),
    ("openrosa_key.media_file", "GET"): Route("GET", "/key/{token}" + FORM_URL + "/media/units.csv",
                                              token_route(200, scoped=True)),
    ("openrosa_key.submission_probe", "GET"): Route("GET", "/key/{token}/submission",
                                                    token_route(204, scoped=False)),
    ("openrosa_key.submission", "POST"): Route("POST", "/key/{token}/submission",
                                               token_route(201, scoped=False, collector_a=403), _submission),
    # --- JSON API ---
    ("api.form_indices", "GET"): Route("GET", f"/api/v1/forms/{OUT_FORM}/indices", api()),
    ("api.form_rankings", "GET"): Route("GET", f"/api/v1/forms/{OUT_FORM}/rankings?level=huyen&period=2026-Q3",
                                        api()),
    ("api.form_dissatisfied", "GET"): Route("GET", f"/api/v1/forms/{OUT_FORM}/dissatisfied", api()),
    ("api.combined_indices", "GET"): Route("GET", f"/api/v1/indices?forms={OUT_FORM}", api()),
    ("api.combined_rankings", "GET"): Route("GET", f"/api/v1/rankings?forms={OUT_FORM}&level=huyen&period=2026-Q3",
                                            api()),
    ("api.combined_dissatisfied", "GET"): Route("GET", f"/api/v1/dissatisfied?forms={OUT_FORM}", api()),
    # --- accounts ---
    ("accounts.home", "GET"): Route("GET", "/", web_page(302, collector_a=302)),
    ("accounts.login", "GET"): Route("GET", "/login", web_page(302, anonymous=200, forged=200, revoked=200,
                                                               collector_a=200),
                                     notes="signed in: straight on"),
    ("accounts.login", "POST"): Route("POST", "/login", table(anonymous=400, forged=400, revoked=400, collector_a=400,
                                                              collector_tinh=N_A, web=400),
                                      lambda m: {}, "no name or password: 400 for everyone", fresh_session=True),
    ("accounts.logout", "POST"): Route("POST", "/logout", public(302), lambda m: {}, fresh_session=True),
    ("accounts.set_language", "POST"): Route("POST", "/language", public(302), lambda m: {"lang": "vi"},
                                             fresh_session=True),
    # --- questionnaires: what test_web_access does not reach ---
    ("questionnaires.staged", "GET"): Route("GET", f"/questionnaires/staged/{ZERO_SHA}",
                                            web_page(403, designer=404, designer_a=404, admin=404, admin_a=404)),
    ("questionnaires.discard_staged", "POST"): Route(
        "POST", f"/questionnaires/staged/{ZERO_SHA}/discard",
        web_page(403, designer=404, designer_a=404, admin=404, admin_a=404), lambda m: {}),
    # --- dashboard ---
    ("dashboard.index", "GET"): Route("GET", "/dashboard/", web_page(200)),
    ("dashboard.form", "GET"): Route("GET", f"/dashboard/{OUT_FORM}",
                                     web_page(**{r: 200 if r in SEES_B else 404 for r in ALL_WEB})),
    ("followups.page", "GET"): Route("GET", f"/dashboard/{OUT_FORM}/followups?status=open",
                                     web_page(**{r: 200 if r in SEES_B else 404 for r in ALL_WEB})),
    ("dashboard.followup", "POST"): Route(
        "POST", f"/dashboard/{OUT_FORM}/followups/{{b_sid}}",
        web_page(403, reporter=302, admin=302, reporter_a=404, admin_a=404), lambda m: {"status": "bogus"},
        "bogus status: back to the page with a message, nothing stored"),
    ("dashboard.publish", "POST"): Route(
        "POST", f"/dashboard/{OUT_FORM}/publish",
        web_page(403, reporter=302, admin=302, reporter_a=404, admin_a=404), lambda m: {"period": "bogus"}),
    ("dashboard.withdraw", "POST"): Route(
        "POST", f"/dashboard/{OUT_FORM}/publications/999999/withdraw",
        web_page(403, reporter=404, admin=404, reporter_a=404, admin_a=404), lambda m: {}),
    # --- exports (streamed downloads): readers of figures, within their scope, as the API ---
    ("api_exports.export_xlsx", "GET"): Route("GET", f"/api/v1/forms/{OUT_FORM}/export.xlsx", api()),
    ("api_exports.export_csvzip", "GET"): Route("GET", f"/api/v1/forms/{OUT_FORM}/export.csv.zip", api()),
    ("api_exports.report_xlsx", "GET"): Route("GET", f"/api/v1/forms/{OUT_FORM}/report.xlsx", api()),
    # --- citizens' channels, staff side: links for admins, designers, reporters; kiosks for admins;
    #     paper data entry for admins and reporters; each within the account's unit scope ---
    ("channels.index", "GET"): Route("GET", f"/channels/?form={OUT_FORM}", web_page(**LINKS_SCOPED)),
    ("channels.poster", "GET"): Route("GET", f"/channels/poster?form={OUT_FORM}&unit={UNIT_B}",
                                      web_page(**LINKS_SCOPED)),
    ("channels.qr_png", "GET"): Route("GET", f"/channels/qr.png?form={OUT_FORM}&unit={UNIT_B}",
                                      web_page(**LINKS_SCOPED)),
    ("channels.kiosks", "GET"): Route("GET", "/channels/kiosks", web_page(403, admin=200, admin_a=200)),
    ("channels.create_kiosk", "POST"): Route("POST", "/channels/kiosks", web_page(403, admin=400, admin_a=400),
                                             lambda m: {"name": "", "unit": UNIT_B},
                                             "no name: refused on content; 481 is outside admin_a's scope"),
    ("admin.user_unlock", "POST"): Route("POST", "/admin/users/xem_aluoi/unlock",
                                         web_page(403, admin=302, admin_a=404), lambda m: {},
                                         notes="an account of 481: outside admin_hue's scope"),
    ("channels.revoke_kiosk", "POST"): Route("POST", "/channels/kiosks/khong-co/revoke",
                                             web_page(403, admin=404, admin_a=404), lambda m: {"confirm": "yes"}),
    ("paper.index", "GET"): Route("GET", "/channels/paper/", web_page(403, **{r: 200 for r in LINK_ROLES})),
    ("paper.create_print", "POST"): Route(
        "POST", "/channels/paper/print", web_page(403, **LINKS_SCOPED_POST),
        lambda m: {"form": OUT_FORM, "unit": UNIT_B, "count": "0"}, "a count of 0: back with a message"),
    ("paper.sheets", "GET"): Route("GET", "/channels/paper/prints/999999",
                                   web_page(403, **{r: 404 for r in LINK_ROLES})),
    ("paper.entry", "GET"): Route("GET", f"/channels/paper/{OUT_FORM}/entry", web_page(403, **ENTRY_SCOPED)),
    ("paper.entry_form", "GET"): Route("GET", f"/channels/paper/{OUT_FORM}/entry/999999/form.xml",
                                       web_page(403, **{r: 404 for r in ENTRY_ROLES})),
    ("paper.entry_submission", "POST"): Route("POST", f"/channels/paper/{OUT_FORM}/entry/999999/submission",
                                              web_page(403, **{r: 404 for r in ENTRY_ROLES}), lambda m: {}),
    ("paper.conflicts", "GET"): Route("GET", "/channels/paper/conflicts",
                                      web_page(403, **{r: 200 for r in LINK_ROLES})),
    ("paper.conflict_xml", "GET"): Route("GET", "/channels/paper/conflicts/999999/xml",
                                         web_page(403, **{r: 404 for r in ENTRY_ROLES})),
    ("paper.resolve", "POST"): Route("POST", "/channels/paper/conflicts/999999/resolve",
                                     web_page(403, **{r: 404 for r in ENTRY_ROLES}), lambda m: {}),
    # --- citizens' channels, public side: anyone; a kiosk only with its registration cookie ---
    ("citizen_link.page", "GET"): Route("GET", f"/f/{OUT_FORM}?unit={UNIT_B}", public(200)),
    ("citizen_link.form_xml", "GET"): Route("GET", f"/f/{OUT_FORM}/form.xml?unit={UNIT_B}", public(200)),
    ("citizen_link.media", "GET"): Route("GET", f"/f/{OUT_FORM}/v/{{version}}/media/units.csv", public(200)),
    ("citizen_link.thanks", "GET"): Route("GET", f"/f/{OUT_FORM}/thanks?unit={UNIT_B}", public(200)),
    ("citizen_link.submission", "POST"): Route("POST", f"/f/{OUT_FORM}/submission?unit={UNIT_B}", public(400),
                                               lambda m: {}, "no answers in the body: 400 for anyone"),
    ("kiosk.page", "GET"): Route("GET", f"/kiosk/{UNIT_B}", public(200), notes="the activation page"),
    ("kiosk.activate", "POST"): Route("POST", f"/kiosk/{UNIT_B}/activate", public(403), lambda m: {"token": "sai"}),
    ("kiosk.form_xml", "GET"): Route("GET", f"/kiosk/{UNIT_B}/form.xml", public(403), notes="not a registered kiosk"),
    ("kiosk.service_worker", "GET"): Route("GET", "/kiosk/sw.js", public(200)),
    ("kiosk.submission", "POST"): Route("POST", f"/kiosk/{UNIT_B}/submission", public(400), lambda m: {}),
    ("odk_assets.vue_file", "GET"): Route("GET", "/static/odk/vue/vue.esm-browser.prod.js", public(200)),
    ("odk_assets.web_forms_file", "GET"): Route("GET", "/static/odk/web-forms/index.js", public(200)),
    ("odk_assets.font_css", "GET"): Route("GET", "/static/odk/fonts/be-vietnam-pro/400.css", public(200)),
    ("odk_assets.font_file", "GET"): Route("GET", "/static/odk/fonts/be-vietnam-pro/files/be-vietnam-pro-vietnamese-400-normal.woff2",
                                          public(200)),
    # --- dossier registers: admins and reporters; a unit-bound one within its scope ---
    ("registers.index", "GET"): Route("GET", "/registers/", web_page(403, **{r: 200 for r in IMPORTERS})),
    ("registers.upload", "POST"): Route("POST", "/registers/upload", web_page(403, **{r: 400 for r in IMPORTERS}),
                                        lambda m: {}, "no file: back to the page with a message"),
    ("registers.confirm", "POST"): Route("POST", f"/registers/confirm/{ZERO_SHA}",
                                         web_page(403, **{r: 404 for r in IMPORTERS}), lambda m: {},
                                         "nothing staged under that SHA-256"),
    # --- sample plans: admins and reporters; the plan of 481 is unknown to accounts of 474 ---
    ("sampling.index", "GET"): Route("GET", "/sampling/", web_page(403, **SAMPLERS_OK)),
    ("sampling.create_plan", "POST"): Route("POST", "/sampling/plans", web_page(403, **{r: 400 for r in SAMPLERS}),
                                            lambda m: {"form_id": OUT_FORM, "period": "2026-Q4", "method": "fixed",
                                                       "fixed_size": "2", "unit": UNIT_B},
                                            "481 already has its live plan, and is outside 474's scope"),
    ("sampling.plan", "GET"): Route("GET", "/sampling/plans/{plan_b}", web_page(403, **PLAN_B)),
    ("sampling.members_csv", "GET"): Route("GET", "/sampling/plans/{plan_b}/members.csv", web_page(403, **PLAN_B)),
    ("sampling.letters", "GET"): Route("GET", "/sampling/plans/{plan_b}/letters", web_page(403, **PLAN_B)),
    ("sampling.sms", "GET"): Route("GET", "/sampling/plans/{plan_b}/sms.csv",
                                   web_page(403, admin=200, admin_a=404), notes="phone numbers: administrators"),
    ("sampling.assign", "POST"): Route("POST", "/sampling/plans/{plan_b}/assign", web_page(403, **PLAN_B_POST),
                                       lambda m: {}, "no unit chosen: back with a message"),
    ("sampling.withdraw", "POST"): Route("POST", "/sampling/plans/{plan_b}/withdraw", web_page(403, **PLAN_B_POST),
                                         lambda m: {}, "not confirmed: back with a message, nothing withdrawn"),
    # --- ODK Central's API and OData feed (server/central): Basic or Bearer, never the cookie ---
    ("central.create_session", "POST"): Route("POST", "/v1/sessions", table(
        anonymous=400, forged=400, revoked=400, collector_a=400, collector_tinh=N_A, web=400),
        body=lambda m: (b"{}", "application/json"), notes="no name or password: 400 for everyone"),
    ("central.delete_session", "DELETE"): Route("DELETE", "/v1/sessions/khong-co", central(404, scoped=False,
                                                                                           collector=404)),
    ("central.current_user", "GET"): Route("GET", "/v1/users/current", central(200, scoped=False, collector=200)),
    ("central.list_projects", "GET"): Route("GET", "/v1/projects", central(200, scoped=False)),
    ("central.get_project", "GET"): Route("GET", "/v1/projects/1", central(200, scoped=False)),
    ("central.list_forms", "GET"): Route("GET", "/v1/projects/1/forms", central(200, scoped=False)),
    ("central.get_form", "GET"): Route("GET", f"/v1/projects/1/forms/{OUT_FORM}", central()),
    ("central.form_xml", "GET"): Route("GET", f"/v1/projects/1/forms/{OUT_FORM}.xml", central()),
    ("central.form_xlsx", "GET"): Route("GET", f"/v1/projects/1/forms/{OUT_FORM}.xlsx", central()),
    ("central.form_versions", "GET"): Route("GET", f"/v1/projects/1/forms/{OUT_FORM}/versions", central()),
    ("central.odata_service", "GET"): Route("GET", f"/v1/projects/1/forms/{OUT_FORM}.svc", central()),
    ("central.odata_metadata", "GET"): Route("GET", f"/v1/projects/1/forms/{OUT_FORM}.svc/$metadata", central()),
    ("central.odata_rows", "GET"): Route("GET", f"/v1/projects/1/forms/{OUT_FORM}.svc/Submissions?$top=5", central()),
    ("central.list_submissions", "GET"): Route("GET", f"/v1/projects/1/forms/{OUT_FORM}/submissions", central()),
    ("central.get_submission", "GET"): Route("GET", f"/v1/projects/1/forms/{OUT_FORM}/submissions/{{b_iid}}",
                                             central()),
    ("central.submission_xml", "GET"): Route(
        "GET", f"/v1/projects/1/forms/{OUT_FORM}/submissions/{{b_iid}}.xml",
        central(403, admin=200), notes="the raw XML holds identifiers: administrators only"),
    ("central.submission_versions", "GET"): Route(
        "GET", f"/v1/projects/1/forms/{OUT_FORM}/submissions/{{b_iid}}/versions", central()),
    ("central.list_attachments", "GET"): Route(
        "GET", f"/v1/projects/1/forms/{OUT_FORM}/submissions/{{b_iid}}/attachments", central(collector=404),
        notes="a collector sees the attachments of its own submissions only"),
    ("central.get_attachment", "GET"): Route(
        "GET", f"/v1/projects/1/forms/{OUT_FORM}/submissions/{{b_iid}}/attachments/khong.jpg", central(404)),
    ("central.create_submission", "POST"): Route(
        "POST", f"/v1/projects/1/forms/{OUT_FORM}/submissions",
        central(403, collector=404, designer=200, admin=200, designer_a=404, admin_a=404, viewer_a=403,
                reporter_a=403), body=_central_xml,
        notes="roles that collect (admin, designer, collector), within their scope"),
    ("central.upload_attachment", "POST"): Route(
        "POST", f"/v1/projects/1/forms/{OUT_FORM}/submissions/{{b_iid}}/attachments/khong.jpg",
        central(404, collector=404, viewer_b=403, reporter=403, viewer_a=403, reporter_a=403),
        body=lambda m: (b"\xff\xd8 not asked for", "image/jpeg"),
        notes="roles that collect, within their scope; a name the XML does not ask for is unknown"),
    ("central.review_submission", "PATCH"): Route(
        "PATCH", f"/v1/projects/1/forms/{OUT_FORM}/submissions/{{b_iid}}",
        central(403, reporter=400, admin=400, reporter_a=404, admin_a=404, viewer_a=403, designer_a=403),
        body=lambda m: (b'{"reviewState": "bogus"}', "application/json"), notes="a bogus state: nothing changes"),
    ("questionnaires.guide", "GET"): Route("GET", "/questionnaires/help/xlsform", web_page(200)),
    # --- administration: settings (issue 17); reading for every administrator, changing province-wide only ---
    ("admin.settings_page", "GET"): Route("GET", "/admin/settings", web_page(403, admin=200, admin_a=200)),
    ("admin.settings_save", "POST"): Route("POST", "/admin/settings", web_page(403, admin=400, admin_a=403),
                                           lambda m: {"public_url": "ftp://sai"}, "a bad address: nothing stored"),
    # --- exports started from the pages (background jobs): readers of figures, within their scope ---
    ("export_jobs.start", "POST"): Route("POST", f"/exports/{OUT_FORM}/xlsx",
                                         web_page(**{r: 400 if r in SEES_B else 404 for r in ALL_WEB}),
                                         lambda m: {"version": "1999"}, "a bad version: no job starts"),
    ("export_jobs.page", "GET"): Route("GET", "/exports/jobs/khong-co", web_page(404)),
    ("export_jobs.state", "GET"): Route("GET", "/exports/jobs/khong-co.json", web_page(404)),
    ("export_jobs.download", "GET"): Route("GET", "/exports/jobs/khong-co/file", web_page(404)),
    # --- public results and files: anyone ---
    ("public.index", "GET"): Route("GET", "/ket-qua", public(200)),
    ("public.form", "GET"): Route("GET", f"/ket-qua/{OUT_FORM}", public(404), notes="nothing published"),
    ("static", "GET"): Route("GET", "/static/app.css", public(200)),
    ("vendor.vendor_file", "GET"): Route("GET", "/static/vendor/chart.umd.min.js", public(200)),
}


def _methods(rule) -> set[str]:
    return set(rule.methods) - {"HEAD", "OPTIONS"}


def _covered_by_web_access(app) -> set[tuple[str, str]]:
    """(endpoint, method) of the routes whose matrix tests/test_web_access.py holds."""
    adapter = app.url_map.bind("localhost")
    covered = set()
    for method, paths in (("GET", [p for p, _ in test_web_access.ROUTES]),
                          ("POST", [p for p, _, _ in test_web_access.POST_ROUTES])):
        for path in paths:
            concrete = path.format(a=1, b=2, a_photo=3, b_photo=4, edited=5).split("?")[0]
            endpoint, _ = adapter.match(concrete, method=method)
            covered.add((endpoint, method))
    return covered


# --- the site and a client per role -------------------------------------------------------------

class Matrix:
    def __init__(self, site, tmp):
        self.site = site
        book = openpyxl.load_workbook(ROOT / "forms" / "tthc_hailong.xlsx")
        settings = book["settings"]
        header = [c.value for c in settings[1]]
        settings.cell(row=2, column=header.index("form_id") + 1, value=OUT_FORM)
        path = tmp / f"{OUT_FORM}.xlsx"
        book.save(path)
        result = cli(site.data_dir, "forms", "publish", str(path), "--unit", UNIT_B)
        assert result.exit_code == 0, result.output
        create_password_user(site.data_dir, "designer_cu", "designer")
        assert cli(site.data_dir, "users", "revoke", "designer_cu").exit_code == 0
        assert cli(site.data_dir, "users", "revoke", "dtv_aluoi").exit_code == 0
        self.app = site.app()
        import storage
        db = storage.connect(site.data_dir)
        version = forms.latest_version(db, OUT_FORM)
        self.version, self.out_xform = version["version"], version["xform"]
        db.close()
        # a submission of 481 in the 481 form, for the follow-up route
        client = self.app.test_client()
        response = client.post(f"/key/{site.tokens['dtv_tinh']}/submission", data=_submission(self),
                               content_type="multipart/form-data")
        assert response.status_code == 201
        self.b_sid = db_last_id(site.data_dir)
        db = storage.connect(site.data_dir)
        self.b_iid = db.execute("SELECT instance_id FROM submissions WHERE id = ?", [self.b_sid]).fetchone()[0]
        db.close()
        self.plan_b = _plan_of_b(site.data_dir)
        self.sessions = {role: signed_in(self.app, name) for role, name in WEB_ACCOUNTS.items()}
        self.addresses = (f"10.77.{n // 250}.{n % 250 + 1}" for n in itertools.count())

    def request(self, role: str, route: Route):
        token_url = route.path.startswith("/key/")
        tokens = {"forged": "gia-mao-" + "x" * 35, "revoked": self.site.tokens["dtv_aluoi"],
                  "collector_a": self.site.tokens["dtv_hue"], "collector_tinh": self.site.tokens["dtv_tinh"]}
        path = route.path.format(token=tokens.get(role, ""), version=self.version, b_sid=self.b_sid,
                                 plan_b=self.plan_b, b_iid=self.b_iid)
        # Collect's routes and /v1 read no session: web accounts send Basic credentials there
        openrosa_route = (token_url or path.split("?")[0] in ("/formList", "/submission") or path.startswith("/forms/")
                          or path.startswith("/v1/"))
        auth = None
        # failures are counted per address by the login limit; each gets its own so none locks another
        environ = {"REMOTE_ADDR": next(self.addresses)}
        if role in WEB_ACCOUNTS and not openrosa_route:
            client = self.sessions[role]
            if route.fresh_session:
                client = self.app.test_client()
                assert login(client, WEB_ACCOUNTS[role]).status_code == 302
        else:
            client = self.app.test_client()
            if not token_url:
                auth = {"forged": ("khong_co_ai", PASSWORD), "revoked": ("designer_cu", PASSWORD),
                        "collector_a": ("thu_ky", PASSWORD)}.get(role) or (
                    (WEB_ACCOUNTS[role], PASSWORD) if role in WEB_ACCOUNTS else None)
        data = route.data(self) if route.data else None
        content_type = "multipart/form-data" if openrosa_route and data else None
        if route.body:
            data, content_type = route.body(self)
        elif route.method == "POST" and not openrosa_route:
            data = {**(data or {}), "csrf_token": csrf_token(client)}
        response = client.open(path, method=route.method, data=data, auth=auth, environ_base=environ,
                               content_type=content_type)
        # read to the end and close, as a client does: a streamed download holds its request open till then
        response.get_data()
        response.close()
        return response


def _plan_of_b(data_dir) -> int:
    """A sample plan of the 481 form for unit 481, drawn from a small register."""
    import storage
    from sampling import plans
    from storage import registers
    db = storage.connect(data_dir)
    try:
        rows = [{"code": f"HS-481-{i}", "unit_code": UNIT_B, "returned_on": "2026-11-02"} for i in range(6)]
        registers.import_dossiers(db, rows, filename="b.csv", sha256=ZERO_SHA, rows_total=6, rows_skipped=0,
                                  actor="test")
        rule = plans.parse_rule(method="fixed", margin=None, fixed_size="2", by_field=False,
                                reserve_percent="50", seed="b")
        return plans.create(db, form_id=OUT_FORM, period="2026-Q4", unit_code=UNIT_B, rule=rule, actor="test")
    finally:
        db.close()


def db_last_id(data_dir) -> int:
    import storage
    db = storage.connect(data_dir, migrate=False)
    try:
        return db.execute("SELECT max(id) FROM submissions").fetchone()[0]
    finally:
        db.close()


@pytest.fixture(scope="module")
def matrix(web_site, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("matrix")
    return Matrix(web_site.copy(tmp / "site"), tmp)


# --- the tests ----------------------------------------------------------------------------------

def test_every_route_is_in_the_table(matrix):
    covered = _covered_by_web_access(matrix.app)
    missing, doubled = [], []
    for rule in matrix.app.url_map.iter_rules():
        for method in _methods(rule):
            key = (rule.endpoint, method)
            if key not in ROUTES and key not in covered:
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
            if key in ROUTES and key in covered:
                doubled.append(key)
    assert not missing, ("routes with no access expectations; add them to ROUTES in tests/test_access_matrix.py: "
                         + "; ".join(sorted(missing)))
    assert not doubled, f"expected in two tables: {doubled}"
    stale = [key for key in ROUTES if not any(r.endpoint == key[0] and key[1] in _methods(r)
                                              for r in matrix.app.url_map.iter_rules())]
    assert not stale, f"ROUTES names routes the app no longer has: {stale}"


@pytest.mark.parametrize("key", sorted(ROUTES), ids=[f"{m} {e}" for e, m in sorted(ROUTES)])
def test_route_role_matrix(matrix, key):
    route = ROUTES[key]
    assert set(route.expect) == set(ROLES)
    wrong = {}
    for role in ROLES:
        expected = route.expect[role]
        if expected is N_A:
            continue
        response = matrix.request(role, route)
        if response.status_code != expected:
            wrong[role] = (response.status_code, expected)
        if expected == 302 and role in ("anonymous", "forged", "revoked") and route.method == "GET" \
                and route.path != "/":
            assert response.headers["Location"].startswith("/login"), (role, route.path)
        if response.status_code == 401:
            # a challenge only where a password could help: never for a token URL
            assert ("WWW-Authenticate" in response.headers) == (not route.path.startswith("/key/")), (role, key)
    assert not wrong, f"{route.method} {route.path}: role -> (got, expected) {wrong}"
