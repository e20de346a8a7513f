"""What the dashboard and the public results page show and keep: figures in the Vietnamese format,
cells under min_n never ranked or published, filters in the address, the follow-up of
dissatisfied answers (kept across an edit, audited), and published snapshots that late answers
do not move.
"""
from __future__ import annotations

import json
import random
import re
import uuid
from datetime import timedelta

import pytest

import storage
from tests.harness.instances import fill_instance, rate_all, standard_answers
from dashboard_site import COMMUNE_A1, COMMUNE_A2, Q3, build
from storage import audit, followups, forms
from web_site import UNIT_A, UNIT_B, _submit, logged_in, post
from xlsforms import STANDARD_VERSION

FORM = "/dashboard/tthc_hailong"
PUBLIC = "/ket-qua/tthc_hailong"
COMMENTS = ("Cán bộ nhiệt tình", "Cần rút ngắn thời gian", "Đã sửa & bổ sung")


@pytest.fixture(scope="module")
def dash(web_site, tmp_path_factory):
    return build(web_site, tmp_path_factory.mktemp("dash-pages") / "site")


@pytest.fixture
def dash_copy(dash, tmp_path):
    return dash.copy(tmp_path / "site")


def text(response) -> str:
    return response.get_data(as_text=True)


def api(client, path: str, **params) -> dict:
    response = client.get(path, query_string=params)
    assert response.status_code == 200, response.data
    return response.get_json()


def vn(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


def low_submission(site, unit: str, level: str, *, start=None, deprecated_id=None, instance_id=None,
                   rng=None) -> str:
    """Send, as Collect would, a standard-form answer rating every item 1; returns its instanceID."""
    db = storage.connect(site.data_dir)
    xform = forms.latest_version(db, "tthc_hailong")["xform"]
    db.close()
    rng = rng or random.Random(1)
    # the quarter's last day: newest first, it heads the dissatisfied list
    answers = rate_all(standard_answers(rng, unit, level, start=start or Q3 + timedelta(days=91, hours=8)), "1")
    answers["main/comment"] = "Phải đi lại năm lần, rất mệt"
    instance_id = instance_id or f"uuid:{uuid.UUID(int=rng.getrandbits(128))}"
    token = site.tokens["dtv_aluoi" if unit == UNIT_B else "dtv_hue"]
    _submit(site.app().test_client(), token, fill_instance(xform, answers, instance_id, deprecated_id=deprecated_id))
    return instance_id


def submission_id(site, instance_id: str) -> int:
    db = storage.connect(site.data_dir)
    return db.execute("SELECT id FROM submissions WHERE instance_id = ?", [instance_id]).fetchone()[0]


# --- figures ---------------------------------------------------------------------------------

def test_figures_match_the_api_in_vietnamese_format(dash):
    admin = logged_in(dash, "admin")
    page = text(admin.get(f"{FORM}?period=2026-Q3"))
    cell = api(admin, "/api/v1/forms/tthc_hailong/indices", **{"from": "2026-07-01", "to": "2026-09-30"})["cells"][0]
    assert cell["enough"]
    overall = cell["overall"]
    assert f'{vn(overall["index"])}<span class="unit">%</span>' in page
    assert f'{vn(overall["ci"][0])}–{vn(overall["ci"][1])}' in page
    for code in ("procedure", "staff", "result"):
        assert vn(cell["criteria"][code]["index"]) in page
    # dates of the dissatisfied list in Vietnam's dd/mm/yyyy
    dates = re.findall(r'<td class="nowrap"><a href="/submissions/\d+">([^<]+)</a>',
                       text(admin.get(f"{FORM}/followups")))
    assert dates and all(re.fullmatch(r"\d\d/\d\d/2026 \d\d:\d\d", d) for d in dates)
    # the same page in English: 60.68, not 60,68
    post(admin, "/language", {"lang": "en"})
    english = text(admin.get(f"{FORM}?period=2026-Q3"))
    assert f'{overall["index"]:.2f}<span class="unit">%</span>' in english and "Not enough answers" in text(admin.get(FORM))


def test_cells_under_min_n_are_shown_as_not_enough_and_never_ranked(dash):
    reporter = logged_in(dash, "reporter_hue")
    page = text(reporter.get(f"{FORM}?period=2026-Q3&level=xa"))
    ranking = page.split('id="ranking-table"')[1].split("</table>")[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", ranking, re.S)
    phu_hoi = next(r for r in rows if f"({COMMUNE_A1})" in r)
    vinh_ninh = next(r for r in rows if f"({COMMUNE_A2})" in r)
    assert re.search(r'<td class="num">1</td>', phu_hoi)
    assert "Không đủ số phiếu" in vinh_ninh and "— không xếp hạng" in vinh_ninh
    assert not re.search(r"\d+,\d\d", vinh_ninh)                  # no index for 5 respondents
    # the trend: Q4 has 11 respondents in 474's subtree
    trend = page.split('id="trend-table"')[1].split("</table>")[0]
    q4 = next(r for r in re.findall(r"<tr[^>]*>(.*?)</tr>", trend, re.S) if "Quý IV/2026" in r)
    assert "Không đủ số phiếu" in q4 and not re.search(r"\d+,\d\d", q4)


def test_not_significant_flag_follows_the_intervals(dash):
    reporter = logged_in(dash, "reporter")
    ranking = api(reporter, "/api/v1/forms/tthc_hailong/rankings", level="huyen", period="2026-Q3")
    ranked = [u for u in ranking["units"] if u["ranked"]]
    assert [u["unit"] for u in ranked] and {u["unit"] for u in ranked} == {UNIT_A, UNIT_B}
    page = text(reporter.get(f"{FORM}?period=2026-Q3&level=huyen"))
    table = page.split('id="ranking-table"')[1].split("</table>")[0]
    for unit in ranked:
        row = next(r for r in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S) if f"({unit['unit']})" in r)
        flagged = bool(unit["overlaps_above"] or unit["overlaps_below"])
        assert ("không có ý nghĩa thống kê" in row) == flagged
        assert f'<td class="num">{unit["rank"]}</td>' in row


def test_breakdowns_by_channel_and_by_a_chosen_question(dash):
    viewer = logged_in(dash, "xem_hue")
    page = text(viewer.get(f"{FORM}?period=2026-Q3&q=main/gender"))
    channel = page.split('id="channel-table"')[1].split("</table>")[0]
    assert "Phỏng vấn trực tiếp" in channel and "Trực tuyến" in channel
    question = page.split('id="question-table"')[1].split("</table>")[0]
    assert "Giới tính" in question and "Nam" in question and "Nữ" in question
    selector = page.split('id="f-question"')[1].split("</select>")[0]
    assert 'value="main/gender" selected' in selector
    # criterion items and the fields the page already breaks down by are not offered
    assert "proc_posted" not in selector and 'value="main/unit"' not in selector and 'value="main/channel"' not in selector
    # the chart of the breakdown is drawn from the figures of the table, embedded in the page
    figures = json.loads(page.split('<script type="application/json" id="chart-question">')[1].split("</script>")[0])
    assert figures["by"] == ["q:main/gender"] and figures["filters"]["from"] == "2026-07-01"
    shown = {cell["key"]["q:main/gender"]: cell["n"] for cell in figures["cells"]}
    assert set(shown) >= {"male", "female"}
    # without a question, the procedure field; an unknown one is refused, not silently replaced
    fallback = text(viewer.get(f"{FORM}"))
    assert 'value="main/procedure_field" selected' in fallback
    refused = viewer.get(f"{FORM}?q=main/khong_co")
    assert refused.status_code == 400 and "main/khong_co" in text(refused)


def test_filters_live_in_the_address_and_every_link_keeps_them(dash):
    reporter = logged_in(dash, "reporter")
    query = f"period=2026-Q3&unit={UNIT_A}&channel=online&version={STANDARD_VERSION}&q=main/gender&level=xa"
    page = text(reporter.get(f"{FORM}?{query}"))
    assert '<option value="2026-Q3" selected>' in page and f'<option value="{UNIT_A}" selected>' in page
    assert '<option value="online" selected>' in page and f'<option value="{STANDARD_VERSION}" selected>' in page
    # the small forms of the ranking and the breakdown carry the other filters along
    for section in ("ranking", "breakdown"):
        part = page.split(f'id="{section}"')[1].split("</form>")[0]
        assert 'name="period" value="2026-Q3"' in part and f'name="unit" value="{UNIT_A}"' in part
        assert 'name="channel" value="online"' in part
    # follow-ups and publications come back to this very view
    assert f'name="next" value="{FORM}?{query}"' in page.replace("%2F", "/").replace("&amp;", "&")
    # the export buttons carry the view: the data of the period and unit, the report of the period
    assert export_fields(page, "xlsx") == {"period": "2026-Q3", "unit": UNIT_A, "version": STANDARD_VERSION}
    assert export_fields(page, "csvzip") == {"period": "2026-Q3", "unit": UNIT_A, "version": STANDARD_VERSION}
    assert export_fields(page, "report") == {"period": "2026-Q3", "unit": UNIT_A}
    assert export_fields(text(reporter.get(FORM)), "xlsx") == {}


def export_fields(page: str, kind: str) -> dict:
    """The hidden fields of the export button's form of this kind (background jobs, server/export_jobs.py)."""
    form = page.split(f'action="/exports/tthc_hailong/{kind}"')[1].split("</form>")[0]
    return {k: v for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form)
            if k != "csrf_token"}


def test_export_buttons_download_within_the_scope(dash):
    import time
    viewer = logged_in(dash, "xem_hue")
    page = text(viewer.get(f"{FORM}?period=2026-Q3&unit={COMMUNE_A1}"))
    for kind in ("xlsx", "csvzip", "report"):
        started = post(viewer, f"/exports/tthc_hailong/{kind}", export_fields(page, kind))
        assert started.status_code == 302, (kind, started.data[:300])
        job = started.headers["Location"]
        for _ in range(200):
            state = viewer.get(job + ".json").get_json()
            if state["state"] != "running":
                break
            time.sleep(0.05)
        assert state["state"] == "done", state
        response = viewer.get(job + "/file")
        assert response.status_code == 200 and response.data[:2] == b"PK"  # an .xlsx, a .zip
    # another unit's figures are refused, not emptied
    assert viewer.get(f"/api/v1/forms/tthc_hailong/report.xlsx?period=2026-Q3&unit={UNIT_B}").status_code == 403


def test_every_input_has_a_label(dash):
    for client, path in ((logged_in(dash, "admin"), FORM), (logged_in(dash, "admin"), "/dashboard/"),
                         (dash.app().test_client(), "/ket-qua")):
        page = text(client.get(path))
        field = r'<(?:input|select|textarea)(?![^>]*type="(?:hidden|checkbox|radio)")(?![^>]*\shidden[\s>])[^>]*'
        ids = re.findall(field + r'\sid="([^"]+)"', page)
        assert len(ids) == len(re.findall(field + ">", page))
        for element_id in ids:
            assert f'<label for="{element_id}"' in page, element_id
        # radios sit inside their label
        assert len(re.findall(r'<label class="choice"><input type="radio"', page)) == page.count('type="radio"')


def test_chart_library_is_served_from_node_modules(dash):
    from server.web.vendor import NODE_MODULES
    path = NODE_MODULES / "chart.js" / "dist" / "chart.umd.min.js"
    if not path.exists():
        pytest.skip("npm packages not installed (make install)")
    response = dash.app().test_client().get("/static/vendor/chart.umd.min.js")
    assert response.status_code == 200 and response.data == path.read_bytes()
    assert response.mimetype == "text/javascript"
    page = text(logged_in(dash, "xem_hue").get(FORM))
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert scripts == ["/static/vendor/chart.umd.min.js", "/static/dashboard.js"]


# --- follow-up -------------------------------------------------------------------------------

def test_follow_up_is_kept_through_an_edit_and_audited(dash_copy):
    site = dash_copy
    original = low_submission(site, UNIT_A, "huyen", rng=random.Random(21))
    first = submission_id(site, original)
    reporter, viewer = logged_in(site, "reporter_hue"), logged_in(site, "xem_hue")
    page = text(viewer.get(f"{FORM}/followups?period=2026-Q3"))
    row = page.split(f'id="dissatisfied-{first}"')[1].split("</tr>")[0]
    assert 'data-status="open"' in row and "Chưa xử lý" in row and "Phải đi lại năm lần" in row
    assert "Lưu theo dõi" not in row                                # viewers read only
    assert post(viewer, f"{FORM}/followups/{first}", {"status": "handled", "note": "x"}).status_code == 403

    # handled needs a note
    response = post(reporter, f"{FORM}/followups/{first}", {"status": "handled", "note": "  "})
    assert response.status_code == 302 and followups.of_submissions(storage.connect(site.data_dir), [first])[first]["status"] == "open"
    note = "Đã gọi điện cho người dân, xin lỗi và hẹn xử lý lại"
    response = post(reporter, f"{FORM}/followups/{first}",
                    {"status": "handled", "note": note, "next": f"{FORM}?period=2026-Q3"})
    assert response.headers["Location"] == f"{FORM}?period=2026-Q3#dissatisfied-{first}"

    # the surveyor sends a corrected version: the chain's new head keeps the follow-up
    edited = low_submission(site, UNIT_A, "huyen", rng=random.Random(22), deprecated_id=original)
    second = submission_id(site, edited)
    page = text(viewer.get(f"{FORM}/followups?period=2026-Q3"))
    assert f'id="dissatisfied-{first}"' not in page
    row = page.split(f'id="dissatisfied-{second}"')[1].split("</tr>")[0]
    assert "Đã xử lý" in row and note in row and "reporter_hue" in row

    # reopened: the status changes, the earlier change stays in the history
    post(reporter, f"{FORM}/followups/{second}", {"status": "open", "note": ""})
    db = storage.connect(site.data_dir)
    state = followups.of_submissions(db, [second])[second]
    assert state["status"] == "open" and [h["status"] for h in state["history"]] == ["handled"]
    entries = [r for r in audit.recent(db, 50) if r["action"] == "followup.set"]
    assert [json.loads(r["details_json"])["status"] for r in entries] == ["open", "handled"]
    assert all(r["target"] == original and r["actor"] == "reporter_hue" for r in entries)
    # the note may quote the citizen: it is kept with the follow-up, never in the audit log
    assert all(note not in (r["details_json"] or "") for r in audit.recent(db, 500))


def test_follow_up_of_another_unit_is_refused(dash_copy):
    site = dash_copy
    other = submission_id(site, low_submission(site, UNIT_B, "huyen", rng=random.Random(23)))
    reporter_a = logged_in(site, "reporter_hue")
    assert post(reporter_a, f"{FORM}/followups/{other}", {"status": "handled", "note": "x"}).status_code == 404
    assert post(logged_in(site, "reporter"), f"{FORM}/followups/{other}",
                {"status": "handled", "note": "đã xử lý"}).status_code == 302
    assert followups.of_submissions(storage.connect(site.data_dir), [other])[other]["status"] == "handled"


# --- publishing and the public page ----------------------------------------------------------

def public_text(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    assert "Set-Cookie" not in response.headers
    return text(response)


def test_public_page_shows_only_what_was_published(dash_copy):
    site = dash_copy
    public = site.app().test_client()
    assert "Chưa có kết quả nào được công bố" in public_text(public, "/ket-qua")
    assert public.get(PUBLIC).status_code == 404
    reporter = logged_in(site, "reporter")
    # the districts of the province, and the communes of Huế, for the third quarter
    assert post(reporter, f"{FORM}/publish", {"period": "2026-Q3", "unit": "", "level": "huyen"}).status_code == 302
    assert post(reporter, f"{FORM}/publish", {"period": "2026-Q3", "unit": UNIT_A, "level": "xa"}).status_code == 302
    index = public_text(public, "/ket-qua")
    assert f'href="{PUBLIC}?period=2026-Q3"' in index and "Quý III/2026" in index
    page = public_text(public, PUBLIC)
    cards = re.findall(r'<li class="result-card">\s*<h3>([^<]+)</h3>', page)
    assert cards.count("Thành phố Huế") == 1 and "Huyện A Lưới" in cards and "Phường Phú Hội" in cards
    # 47402 (5 respondents) is hidden, only counted
    assert "Vĩnh Ninh" not in page and "1 đơn vị có dưới 30 người trả lời" in page
    # figures are the dashboard's at the moment of publishing
    figures = api(reporter, "/api/v1/forms/tthc_hailong/indices", by="huyen", **{"from": "2026-07-01", "to": "2026-09-30"})
    hue = next(c for c in figures["cells"] if c["key"]["huyen"] == UNIT_A)
    assert f'{vn(hue["overall"]["index"])}<span class="unit">%</span>' in page
    # nothing of a single answer: no comment, no instance id, no dossier code, no other period
    for secret in COMMENTS + ("uuid:", "HS-474", "HS-481", "Quý IV/2026"):
        assert secret not in page, secret
    # English, still without a cookie
    english = public_text(public, f"{PUBLIC}?lang=en")
    assert '<html lang="en">' in english and f'{hue["overall"]["index"]:.2f}<span class="unit">%</span>' in english
    assert "Hue City" in english and "Q3 2026" in english
    assert public.get(f"{PUBLIC}?period=2026-Q4").status_code == 404


def test_published_figures_do_not_move_until_published_again(dash_copy):
    site = dash_copy
    public = site.app().test_client()
    reporter = logged_in(site, "reporter")
    post(reporter, f"{FORM}/publish", {"period": "2026-Q3", "unit": UNIT_B})
    before = public_text(public, PUBLIC)
    db = storage.connect(site.data_dir)
    snapshot = json.loads(db.execute("SELECT snapshot_json FROM publications").fetchone()[0])
    published = snapshot["cells"][0]["overall"]["index"]
    # late answers from A Lưới, all of them very dissatisfied
    rng = random.Random(31)
    for _ in range(8):
        low_submission(site, UNIT_B, "huyen", rng=rng)
    now = api(reporter, "/api/v1/forms/tthc_hailong/indices", unit=UNIT_B, **{"from": "2026-07-01", "to": "2026-09-30"})
    assert now["cells"][0]["overall"]["index"] < published - 5
    assert public_text(public, PUBLIC) == before                       # the public page did not move
    # publishing again replaces the snapshot; the old one is kept, withdrawn
    post(reporter, f"{FORM}/publish", {"period": "2026-Q3", "unit": UNIT_B})
    after = public_text(public, PUBLIC)
    assert vn(now["cells"][0]["overall"]["index"]) in after and vn(published) not in after
    rows = db.execute("SELECT withdrawn_at IS NOT NULL FROM publications ORDER BY id").fetchall()
    assert [r[0] for r in rows] == [1, 0]
    actions = [(r["action"], json.loads(r["details_json"])) for r in audit.recent(db, 50)
               if r["action"].startswith("result.")]
    assert [a for a, _ in actions] == ["result.publish", "result.publish"]
    assert actions[0][1]["replaced"] == actions[1][1]["publication_id"]


def test_withdraw_takes_it_off_the_public_page(dash_copy):
    site = dash_copy
    public = site.app().test_client()
    reporter = logged_in(site, "reporter_hue")
    post(reporter, f"{FORM}/publish", {"period": "2026-Q3", "unit": UNIT_A, "level": "xa"})
    assert "Phường Phú Hội" in public_text(public, PUBLIC)
    db = storage.connect(site.data_dir)
    pub_id = db.execute("SELECT id FROM publications").fetchone()[0]
    page = text(reporter.get(FORM))
    assert f"/publications/{pub_id}/withdraw" in page
    assert post(reporter, f"{FORM}/publications/{pub_id}/withdraw").status_code == 302
    assert public.get(PUBLIC).status_code == 404
    assert "Chưa có kết quả nào được công bố" in public_text(public, "/ket-qua")
    entry = next(r for r in audit.recent(db, 20) if r["action"] == "result.withdraw")
    assert entry["actor"] == "reporter_hue" and json.loads(entry["details_json"])["publication_id"] == pub_id
    # withdrawing twice finds nothing
    assert post(reporter, f"{FORM}/publications/{pub_id}/withdraw").status_code == 404


def test_nothing_is_published_when_no_cell_has_enough_answers(dash_copy):
    site = dash_copy
    reporter = logged_in(site, "reporter")
    for data in ({"period": "2026-Q4", "unit": UNIT_A},                 # 11 respondents
                 {"period": "2026-Q3", "unit": COMMUNE_A2},             # 5
                 {"period": "2025", "unit": ""}):                       # none
        response = post(reporter, f"{FORM}/publish", data)
        assert response.status_code == 302
        page = text(reporter.get(response.headers["Location"]))
        assert "không có gì được công bố" in page, data
    assert storage.connect(site.data_dir).execute("SELECT count(*) FROM publications").fetchone()[0] == 0


def test_open_count_is_the_list_less_the_chains_marked_handled(dash_copy):
    """The summary's count (aggregate.count_open, which never reads the list) against the list
    itself and each entry's status, under several filters, after handling, reopening and an
    edit of a handled answer."""
    from aggregate import DissatisfiedQuery, list_dissatisfied, periods
    from aggregate.dissatisfied import count_open
    site = dash_copy
    original = low_submission(site, UNIT_A, "huyen", rng=random.Random(31))
    db = storage.connect(site.data_dir)
    every = list_dissatisfied(db, DissatisfiedQuery(forms=("tthc_hailong",)), everything=True).entries
    ids = [e.submission_id for e in every]
    assert len(ids) > 6
    for sid in ids[:4] + [submission_id(site, original)]:
        assert followups.set_status(db, sid, "handled", "đã xử lý", "test")
    assert followups.set_status(db, ids[1], "open", None, "test")           # reopened: open again
    # a handled answer edited: its chain stays handled under the new head
    low_submission(site, UNIT_A, "huyen", rng=random.Random(32), deprecated_id=original)

    q3 = periods.parse_period("2026-Q3")
    for filters in ({}, {"unit": UNIT_B}, {"unit": UNIT_A}, {"date_from": q3.start, "date_to": q3.end},
                    {"channel": "interview"}):
        query = DissatisfiedQuery(forms=("tthc_hailong",), **filters)
        entries = list_dissatisfied(db, query, everything=True).entries
        states = followups.of_submissions(db, [e.submission_id for e in entries])
        expected = (len(entries), sum(1 for e in entries if states[e.submission_id]["status"] == "open"))
        assert count_open(db, query) == expected, filters
    whole = count_open(db, DissatisfiedQuery(forms=("tthc_hailong",)))
    assert whole[0] - whole[1] == 4          # ids[0], ids[2], ids[3] and the edited chain
