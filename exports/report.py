"""The report workbook (Báo cáo kết quả khảo sát) for a period and a unit subtree.

A Vietnamese administrative report (lang=vi; lang=en writes it all in English): every sheet opens
with the issuing body (Administration → Settings), the national motto, the place and date line and
the title, prints on A4 landscape one page wide, and the summary ends with the signature block.
Sheets:
  Tổng hợp        overall and per-criterion index per unit: n, 95% interval, rank, the previous
                  period and the change, "không đủ số phiếu" where there are too few answers
  Theo tiêu chí   the items of each criterion
  Theo kênh       by channel
  Theo đối tượng  by each background question (who answered, which field of procedures)
  Không hài lòng  the dissatisfied submissions with their comments, newest first
  Biểu đồ         native Excel charts: the overall index by unit (bar), over the periods (line),
                  and one per criterion (its items)
  Độ bao phủ mẫu  when sample plans fall in the period: planned, reached, refused, unreachable and
                  the response rate per unit and per surveyor (sampling/)

Every number comes from aggregate/ through the JSON the indices API returns (render.py), so the
report and the API can never disagree: nothing here adds, averages or rounds an answer.
"""
from __future__ import annotations

import concurrent.futures
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import xlsxwriter

import storage
from aggregate import IndexQuery, compute_indices, refresh, weighted_indices
from aggregate import periods, render
from aggregate.dissatisfied import DissatisfiedQuery, list_dissatisfied
from aggregate.engine import LEVELS, resolve
from aggregate.rankings import RankQuery, rank_units
from sampling import coverage as sample_coverage
from storage import export_queries, scores
from storage import units as unit_store
from storage.db import DB_FILENAME

from .excel import REVIEW_LABELS, local_now
from .query import ReportQuery, parse_period
from .schema import FormSchema, load_schema

CRITERIA = scores.CRITERIA
TREND_LENGTH = {"month": 12, "quarter": 8, "half": 6, "year": 5}
DISSATISFIED_SHOWN = 1000
# named by the conventions, or asked only to pick the unit: the unit breakdown already covers them
NOT_BACKGROUND_ROLES = ("unit", "channel", "consent", "dossier_code", "contact_outcome")
NOT_BACKGROUND_NAMES = ("level",)
NOT_ENOUGH_VI, NOT_ENOUGH_EN = render.NOT_ENOUGH.split(" / ")
TITLE_VI = ("BÁO CÁO KẾT QUẢ KHẢO SÁT SỰ HÀI LÒNG CỦA NGƯỜI DÂN, TỔ CHỨC "
            "ĐỐI VỚI VIỆC GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH")
TITLE_EN = "Survey results: citizens' and organisations' satisfaction with the handling of administrative procedures"
ROMAN = ("I", "II", "III")


@dataclass
class ReportPlan:
    query: ReportQuery
    schema: FormSchema
    period: periods.Period
    previous: periods.Period
    unit: str | None              # the unit asked for (None: all the account may see)
    reference: str | None         # the unit whose subtree the report is about, for titles and levels
    levels: list[str]             # levels ranked: those below the reference unit's
    peers: list[str]              # units of the reference's own level under it (the provincial centre)
    background: list[str]         # select_one questions to break down by
    trend: list[periods.Period]

    @property
    def forms(self) -> tuple[str, ...]:
        return (self.query.form_id,)


def prepare_report(db, query: ReportQuery) -> ReportPlan:
    """Check a report request; raises QueryError naming the first problem."""
    period = parse_period(query.period)
    ctx = resolve(db, forms=(query.form_id,), unit=query.unit, scope=query.scope, min_n=query.min_n,
                  units=query.units)
    # titles, levels and peers follow the tree in force (there is no district level to rank
    # after 1/7/2025); the figures follow the view asked for
    in_force = {u["code"]: u for u in unit_store.all_units(db, in_force=True)}
    roots = [code for code, unit in in_force.items() if not unit["parent_code"]]
    reference = query.unit or query.scope or (roots[0] if len(roots) == 1 else None)
    inside = set(in_force) if ctx.unit_codes is None else set(ctx.unit_codes) & set(in_force)
    if reference is not None:
        inside &= unit_store.subtree_codes(db, reference)
    own = in_force.get(reference) or unit_store.get_unit(db, reference) if reference else None
    own_level = own["level"] if own else None
    below = LEVELS[LEVELS.index(own_level) + 1:] if own_level else LEVELS
    levels = [level for level in below if any(in_force[c]["level"] == level for c in inside)]
    peers = sorted(c for c in inside if c != reference and own_level and in_force[c]["level"] == own_level)
    schema = load_schema(db, query.form_id)
    trend = [period]
    while len(trend) < TREND_LENGTH[period.kind]:
        trend.insert(0, trend[0].previous())
    return ReportPlan(query=query, schema=schema, period=period, previous=period.previous(),
                      unit=query.unit, reference=reference, levels=levels, peers=peers,
                      background=background_questions(schema), trend=trend)


def background_questions(schema: FormSchema) -> list[str]:
    """Single-choice questions outside repeats that describe the respondent or the procedure."""
    skip = {schema.roles.get(role) for role in NOT_BACKGROUND_ROLES}
    return [f.path for f in schema.fields
            if f.type == "select1" and f.repeat is None and not f.sensitive and not f.criterion
            and f.choices and f.path not in skip and f.name not in NOT_BACKGROUND_NAMES]


# --- gathering the numbers (all through aggregate/ and its JSON) --------------------------------

@dataclass
class Figures:
    total: dict | None = None
    total_previous: dict | None = None
    total_change: float | None = None
    peers: list[tuple[str, dict | None, dict | None, float | None]] = field(default_factory=list)
    rankings: dict[str, dict] = field(default_factory=dict)          # level -> rankings JSON
    ranking_cells: dict[str, list] = field(default_factory=dict)     # level -> cell JSON per unit
    channels: dict | None = None
    trend: dict | None = None
    items: dict | None = None
    background: dict[str, dict] = field(default_factory=dict)
    dissatisfied: dict | None = None
    coverage: list[dict] = field(default_factory=list)      # sample plans of the period
    weighted: dict | None = None                            # the total weighted by dossier volume


def _index_query(plan: ReportPlan, p: periods.Period | None = None, **kw) -> IndexQuery:
    p = p or plan.period
    kw.setdefault("unit", plan.unit)
    return IndexQuery(forms=plan.forms, date_from=p.start, date_to=p.end, scope=plan.query.scope,
                      min_n=plan.query.min_n, units=plan.query.units, **kw)


def _indices(db, query: IndexQuery) -> dict:
    return render.indices_json(db, query, compute_indices(db, query))


def _one_cell(db, query: IndexQuery):
    cells = compute_indices(db, query)
    return (cells[0] if cells else None), (render.indices_json(db, query, cells)["cells"] or [None])[0]


def _change(now, before) -> float | None:
    """Now minus before, as rank_units reports it: only when both are published numbers."""
    if now is None or before is None or not (now.enough and before.enough):
        return None
    if now.overall is None or before.overall is None:
        return None
    return render.rounded(now.overall - before.overall)


def _items(db, plan: ReportPlan) -> dict:
    return _indices(db, _index_query(plan, items=True))


def _background(db, plan: ReportPlan, path: str) -> dict:
    return _indices(db, _index_query(plan, by=(render.QUESTION + path,)))


def _dissatisfied(db, plan: ReportPlan) -> dict:
    query = DissatisfiedQuery(forms=plan.forms, date_from=plan.period.start, date_to=plan.period.end,
                              unit=plan.unit, scope=plan.query.scope, limit=DISSATISFIED_SHOWN)
    return render.dissatisfied_json(db, query, list_dissatisfied(db, query))


def gather(db, plan: ReportPlan, *, workers: int = 2) -> Figures:
    """Every number of the report. The sections that scan answers (items, background questions,
    the dissatisfied list) run side by side on their own read connections when `workers` > 1;
    the rest shares one snapshot of the database."""
    figures = Figures()
    slow = [("items", None)] + [("background", path) for path in plan.background] + [("dissatisfied", None)]

    def run_slow(conn, kind, path):
        if kind == "items":
            return _items(conn, plan)
        if kind == "background":
            return _background(conn, plan, path)
        return _dissatisfied(conn, plan)

    path = export_queries.database_path(db)
    parallel = workers > 1 and path is not None and Path(path).name == DB_FILENAME
    with _scored_snapshot(db):
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers) if parallel else None
        try:
            futures = {}
            if pool is not None:
                def task(kind, question):
                    conn = storage.connect(Path(path).parent, migrate=False)
                    try:
                        return run_slow(conn, kind, question)
                    finally:
                        conn.close()
                futures = {(kind, question): pool.submit(task, kind, question) for kind, question in slow}
            now_cell, figures.total = _one_cell(db, _index_query(plan))
            figures.weighted = render.weighted_json(weighted_indices(db, _index_query(plan)).get(()))
            before_cell, figures.total_previous = _one_cell(db, _index_query(plan, plan.previous))
            figures.total_change = _change(now_cell, before_cell)
            for peer in plan.peers:
                now_cell, now_json = _one_cell(db, _index_query(plan, unit=peer))
                before_cell, before_json = _one_cell(db, _index_query(plan, plan.previous, unit=peer))
                figures.peers.append((peer, now_json, before_json, _change(now_cell, before_cell)))
            labels = render.Labels(db, plan.forms, plan.query.units)
            for level in plan.levels:
                query = RankQuery(forms=plan.forms, level=level, period=plan.period.key, unit=plan.unit,
                                  scope=plan.query.scope, min_n=plan.query.min_n, units=plan.query.units)
                ranking = rank_units(db, query)
                figures.rankings[level] = render.rankings_json(db, query, ranking)
                figures.ranking_cells[level] = [render.cell_json(row.cell, labels) if row.cell else None
                                                for row in ranking.rows]
            figures.channels = _indices(db, _index_query(plan, by=("channel",)))
            first, last = plan.trend[0], plan.trend[-1]
            trend_query = IndexQuery(forms=plan.forms, by=(plan.period.kind,), date_from=first.start,
                                     date_to=last.end, unit=plan.unit, scope=plan.query.scope,
                                     min_n=plan.query.min_n, units=plan.query.units)
            figures.trend = _indices(db, trend_query)
            results = {}
            for kind, question in slow:
                if pool is not None:
                    results[(kind, question)] = futures[(kind, question)].result()
                else:
                    results[(kind, question)] = run_slow(db, kind, question)
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
    figures.items = results[("items", None)]
    figures.background = {q: results[("background", q)] for q in plan.background}
    figures.dissatisfied = results[("dissatisfied", None)]
    figures.coverage = sample_coverage.plans_for_report(db, plan.query.form_id, plan.period,
                                                        plan.unit or plan.query.scope)
    return figures


class _scored_snapshot:
    """A read snapshot in which every submission is scored: the engine then has nothing to
    write (it scores new submissions first, which cannot happen inside a read transaction)."""

    def __init__(self, db):
        self.db = db

    def __enter__(self):
        for _ in range(10):
            refresh(self.db)
            self.db.execute("BEGIN")
            if scores.scored_through(self.db) >= scores.newest_submission(self.db):
                return self
            self.db.execute("COMMIT")          # a submission arrived meanwhile: score it too
        raise RuntimeError("submissions keep arriving faster than they are scored")

    def __exit__(self, *exc):
        if self.db.conn.in_transaction:
            self.db.execute("COMMIT")


# --- writing ----------------------------------------------------------------------------------------
# The workbook is one language: Vietnamese (lang=vi, the document a provincial office issues) or
# English (lang=en). Column headers are written "Vietnamese\nEnglish" and `_pick` keeps one line.

def _pick(text: str, lang: str) -> str:
    """One language of a "vi\\nen" header (a header without a newline is the same in both)."""
    vi, _, en = text.partition("\n")
    return en if lang == "en" and en else vi


class _Formats:
    def __init__(self, book):
        base = {"font_name": "Times New Roman", "font_size": 11, "valign": "vcenter"}

        def add(**options):
            return book.add_format({**base, **options})

        self.text = add(border=1, text_wrap=True)
        self.center = add(border=1, align="center")
        self.number = add(border=1, num_format="0.00")
        self.count = add(border=1, num_format="#,##0")
        self.percent_note = add(border=1, italic=True, font_color="#7F7F7F", text_wrap=True)
        self.header = add(bold=True, border=1, text_wrap=True, align="center", bg_color="#DDEBF7")
        self.total = add(bold=True, border=1, text_wrap=True, bg_color="#F2F2F2")
        self.total_number = add(bold=True, border=1, num_format="0.00", bg_color="#F2F2F2")
        self.total_count = add(bold=True, border=1, num_format="#,##0", bg_color="#F2F2F2")
        self.section = add(bold=True, font_size=12)
        self.parent = add(align="center", text_wrap=True)
        self.issuer = add(bold=True, align="center", text_wrap=True)
        self.issuer_rule = add(bold=True, align="center", underline=True, text_wrap=True)
        self.motto = add(bold=True, underline=True, align="center")
        self.dated = add(italic=True, align="center")
        self.title = add(bold=True, font_size=14, align="center", text_wrap=True)
        self.line = add(align="center", text_wrap=True)
        self.note = add(italic=True, text_wrap=True, valign="top")
        self.plain = add()
        self.bold = add(bold=True)
        self.bold_italic = add(bold=True, italic=True)
        self.small = add(font_size=10)
        self.sign_title = add(bold=True, align="center")
        self.sign_hint = add(italic=True, align="center")
        self.sign_name = add(bold=True, align="center")


def _pct(value, lang: str = "vi") -> str:
    if value is None:
        return ""
    return f"{value:.2f}".replace(".", ",") if lang == "vi" else f"{value:.2f}"


def _vn_number(n: int, lang: str = "vi") -> str:
    return f"{n:,}".replace(",", ".") if lang == "vi" else f"{n:,}"


class _Sheet:
    """One report sheet on A4 landscape, one page wide: the administrative header (issuing body,
    national motto, place and date), the title, then tables."""

    def __init__(self, book, fmt: _Formats, plan: ReportPlan, context: dict, name: tuple[str, str],
                 heading: tuple[str, str], widths: list[float]):
        self.lang = plan.query.lang
        self.ws = book.add_worksheet(self.t(*name))
        self.fmt, self.last_col = fmt, len(widths) - 1
        ws = self.ws
        for col, width in enumerate(widths):
            ws.set_column(col, col, width)
        ws.set_landscape()
        ws.set_paper(9)                                 # A4
        ws.set_margins(left=0.5, right=0.4, top=0.6, bottom=0.6)
        ws.center_horizontally()
        ws.fit_to_pages(1, 0)                           # as wide as a page, as long as needed
        ws.set_footer("&L&8" + context["footer"] + "&R&8" + self.t("Trang &P/&N", "Page &P of &N"))
        ws.hide_gridlines(1)                            # gridlines on screen, not on paper
        # Decree 30/2020/NĐ-CP's layout: the issuing body on the left, the national motto on the
        # right, the place and date under the motto
        half = max(1, (self.last_col + 1) // 2)
        issuer = context["issuer"]
        ws.merge_range(0, 0, 0, half - 1, issuer["parent"], fmt.parent)
        ws.merge_range(1, 0, 1, half - 1, issuer["body"], fmt.issuer_rule)
        ws.merge_range(0, half, 0, self.last_col, self.t("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                                                          "SOCIALIST REPUBLIC OF VIET NAM"), fmt.issuer)
        ws.merge_range(1, half, 1, self.last_col, self.t("Độc lập - Tự do - Hạnh phúc",
                                                          "Independence - Freedom - Happiness"), fmt.motto)
        ws.merge_range(2, 0, 2, half - 1, self.t("Số:        /BC", "No.:        /BC"), fmt.parent)
        ws.merge_range(2, half, 2, self.last_col, context["dated"], fmt.dated)
        ws.set_row(4, 36)
        ws.merge_range(4, 0, 4, self.last_col, self.t(TITLE_VI, TITLE_EN.upper()), fmt.title)
        for offset, line in enumerate(context["lines"]):
            ws.merge_range(5 + offset, 0, 5 + offset, self.last_col, line, fmt.line)
        self.row = 6 + len(context["lines"])
        ws.write_string(self.row, 0, self.t(*heading), fmt.section)
        self.row += 2

    def t(self, vi: str, en: str) -> str:
        return en if self.lang == "en" else vi

    def header(self, cells: list[str], height: float = 45) -> None:
        self.ws.set_row(self.row, height)
        for col, text in enumerate(cells):
            self.ws.write_string(self.row, col, _pick(text, self.lang), self.fmt.header)
        if not self.ws.repeat_row_range:
            self.ws.repeat_rows(self.row)               # the header again on every printed page
        self.row += 1

    def section(self, vi: str, en: str) -> None:
        self.ws.write_string(self.row, 0, self.t(vi, en), self.fmt.section)
        self.row += 1

    def note(self, vi: str, en: str, height: float | None = None) -> None:
        self.ws.merge_range(self.row, 0, self.row, self.last_col, self.t(vi, en), self.fmt.note)
        if height:
            self.ws.set_row(self.row, height)
        self.row += 1

    def put(self, col: int, value, kind: str = "text", total: bool = False) -> None:
        """A cell: numbers as numbers (2 decimals as the API rounds them), None as empty."""
        ws, fmt = self.ws, self.fmt
        if value is None:
            ws.write_blank(self.row, col, None, fmt.total if total else fmt.text)
        elif kind == "index":
            ws.write_number(self.row, col, value, fmt.total_number if total else fmt.number)
        elif kind == "count":
            ws.write_number(self.row, col, value, fmt.total_count if total else fmt.count)
        elif kind == "muted":
            ws.write_string(self.row, col, value, fmt.percent_note)
        elif kind == "center":
            ws.write(self.row, col, value, fmt.center)
        else:
            ws.write_string(self.row, col, str(value), fmt.total if total else fmt.text)

    def signature(self, issuer: dict) -> None:
        """Recipients on the left; the signer's title, the hint and the name on the right."""
        ws, fmt = self.ws, self.fmt
        half = max(1, (self.last_col + 1) // 2)
        top = self.row + 1
        ws.write_string(top, 0, self.t("Nơi nhận:", "Recipients:"), fmt.bold_italic)
        for offset, line in enumerate((self.t("- Như trên;", "- As above;"), self.t("- Lưu: VT.", "- Filed: VT."))):
            ws.write_string(top + 1 + offset, 0, line, fmt.small)
        ws.merge_range(top, half, top, self.last_col, issuer["signer_title"], fmt.sign_title)
        ws.merge_range(top + 1, half, top + 1, self.last_col,
                       self.t("(Ký, ghi rõ họ tên, đóng dấu)", "(Signature, full name and seal)"), fmt.sign_hint)
        ws.merge_range(top + 6, half, top + 6, self.last_col, issuer["signer_name"] or "", fmt.sign_name)
        self.row = top + 7


def issuer_settings(db) -> dict:
    """The issuing body, place and signer from the administrators' settings, else the defaults."""
    from storage import settings
    stored = settings.get_settings(db, [key for key, *_ in REPORT_SETTINGS])
    return {key.removeprefix("report_"): stored[key] or default for key, default, *_ in REPORT_SETTINGS}


# (setting key, default, label vi, label en): what Administration → Settings offers for the report
REPORT_SETTINGS = (
    ("report_parent", "UBND THÀNH PHỐ HUẾ", "Cơ quan chủ quản (dòng 1)", "Parent body (line 1)"),
    ("report_body", "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG", "Cơ quan ban hành báo cáo (dòng 2)",
     "Issuing body (line 2)"),
    ("report_place", "Huế", "Địa danh ghi ngày tháng", "Place in the date line"),
    ("report_signer_title", "GIÁM ĐỐC", "Chức danh người ký", "Signer's title"),
    ("report_signer_name", "", "Họ tên người ký", "Signer's name"),
)
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December")


def _context(db, plan: ReportPlan, now: datetime) -> dict:
    labels = render.Labels(db, plan.forms, plan.query.units)
    en = plan.query.lang == "en"
    lang = "en" if en else "vi"
    issuer = issuer_settings(db)
    if plan.unit or plan.query.scope:
        code = plan.unit or plan.query.scope
        name = labels.unit(code)[lang]
        unit_line = (f"Unit: {name} ({code}) and the units under it" if en
                     else f"Đơn vị: {name} ({code}) và các đơn vị trực thuộc")
    else:
        unit_line = "Scope: the whole province" if en else "Phạm vi: toàn tỉnh"
    period = plan.period
    if en:
        dated = f"{issuer['place']}, {now.day} {_MONTHS_EN[now.month - 1]} {now.year}"
        lines = [f"Period: {period.label('en')} ({period.start:%d/%m/%Y} to {period.end:%d/%m/%Y})", unit_line,
                 f"Form: {plan.schema.title} ({plan.schema.form_id}); made at {now:%d/%m/%Y %H:%M} (Vietnam time)"]
    else:
        dated = f"{issuer['place']}, ngày {now.day:02d} tháng {now.month:02d} năm {now.year}"
        lines = [f"Kỳ báo cáo: {period.label('vi')} (từ {period.start:%d/%m/%Y} đến {period.end:%d/%m/%Y})",
                 unit_line,
                 f"Biểu mẫu: {plan.schema.title} ({plan.schema.form_id}); lập lúc {now:%d/%m/%Y %H:%M}"]
    return {"issuer": issuer, "dated": dated, "lines": lines, "labels": labels, "lang": lang,
            "footer": f"{plan.schema.form_id} — {period.key}" + (f" — {plan.unit}" if plan.unit else "")}


SUMMARY_HEADERS = [
    "STT\nNo.", "Mã\nCode", "Đơn vị\nUnit", "Số phiếu\nSubmissions", "Số người trả lời (n)\nRespondents (n)",
    "Chỉ số hài lòng chung (%)\nOverall index (%)", "KTC 95% — thấp\n95% CI low", "KTC 95% — cao\n95% CI high",
    "Xếp hạng\nRank", "Kỳ trước (%)\nPrevious period (%)", "Thay đổi (điểm %)\nChange (points)",
    "Giải quyết TTHC (%)\nProcedure (%)", "n", "Công chức (%)\nStaff (%)", "n", "Kết quả (%)\nResult (%)", "n",
    "Ghi chú\nNote"]


def _no_submissions(lang: str) -> str:
    return "no submissions" if lang == "en" else "chưa có phiếu"


def _not_enough(lang: str) -> str:
    return NOT_ENOUGH_EN if lang == "en" else NOT_ENOUGH_VI


def _summary_row(sheet: _Sheet, number, code, name, cell: dict | None, *, rank=None, previous=None,
                 change=None, total: bool = False, min_n: int) -> None:
    lang = sheet.lang
    sheet.put(0, number, "center")
    sheet.put(1, code or "", total=total)
    sheet.put(2, name, total=total)
    if cell is None:
        for col in range(3, 17):
            sheet.put(col, None, total=total)
        sheet.put(17, _no_submissions(lang), "muted")
        sheet.row += 1
        return
    sheet.put(3, cell["submissions"], "count", total)
    sheet.put(4, cell["n"], "count", total)
    if cell["overall"]["index"] is None:
        sheet.put(5, _not_enough(lang), "muted")
    else:
        sheet.put(5, cell["overall"]["index"], "index", total)
    ci = cell["overall"]["ci"] or (None, None)
    sheet.put(6, ci[0], "index", total)
    sheet.put(7, ci[1], "index", total)
    sheet.put(8, rank if rank is not None else ("—" if total else None), "center")
    sheet.put(9, previous, "index", total)
    sheet.put(10, change, "index", total)
    for offset, criterion in enumerate(CRITERIA):
        crit = cell["criteria"][criterion]
        sheet.put(11 + 2 * offset, crit["index"], "index", total)
        sheet.put(12 + 2 * offset, crit["n"], "count", total)
    note = "" if cell["enough"] else sheet.t(f"Dưới {min_n} người trả lời: {NOT_ENOUGH_VI}",
                                             f"Fewer than {min_n} respondents: {NOT_ENOUGH_EN}")
    sheet.put(17, note, "muted" if note else "text")
    sheet.row += 1


def _weighted_row(sheet: _Sheet, weighted: dict) -> None:
    """The total again, each unit weighted by the dossiers it returned (README: weighted index)."""
    lang, share = sheet.lang, weighted["volume_share"]
    if lang == "en":
        sheet.put(2, f"Weighted by dossier volume ({weighted['units']} units"
                     + (f", {_pct(share, lang)}% of dossiers" if share is not None else "") + ")")
    else:
        sheet.put(2, f"Có trọng số theo số hồ sơ ({weighted['units']} đơn vị"
                     + (f", {_pct(share)}% số hồ sơ" if share is not None else "") + ")")
    sheet.put(4, weighted["n"], "count")
    sheet.put(5, weighted["overall"]["index"], "index")
    for offset, criterion in enumerate(CRITERIA):
        crit = weighted["criteria"].get(criterion) or {}
        sheet.put(11 + 2 * offset, crit.get("index"), "index")
        sheet.put(12 + 2 * offset, crit.get("n"), "count")
    sheet.put(17, sheet.t(f"Sổ theo dõi: {_vn_number(weighted['volume'])} hồ sơ trả kết quả trong kỳ",
                          f"Register: {weighted['volume']:,} dossiers returned in the period"), "muted")
    sheet.row += 1


def _write_summary(book, fmt, plan: ReportPlan, figures: Figures, context: dict) -> None:
    labels, lang = context["labels"], context["lang"]
    sheet = _Sheet(book, fmt, plan, context, ("Tổng hợp", "Summary"),
                   ("Bảng 1. Chỉ số hài lòng theo đơn vị",
                    "Table 1. Satisfaction index by unit: overall and per criterion"),
                   [5, 9, 30, 10, 12, 12, 10, 10, 9, 11, 11, 11, 7, 11, 7, 11, 7, 28])
    min_n = plan.query.min_n
    sheet.header(SUMMARY_HEADERS, 60)
    name = (labels.unit(plan.unit or plan.query.scope)[lang] if (plan.unit or plan.query.scope)
            else sheet.t("Toàn tỉnh", "Whole province"))
    sheet.section("A. Chung", "A. Overall")
    previous = figures.total_previous["overall"]["index"] if figures.total_previous else None
    _summary_row(sheet, "", plan.unit or plan.query.scope, name, figures.total, previous=previous,
                 change=figures.total_change, total=True, min_n=min_n)
    if figures.weighted is not None:
        _weighted_row(sheet, figures.weighted)
    letter = iter("BCDEFG")
    if figures.peers:
        mark = next(letter)
        sheet.section(f"{mark}. Đơn vị cùng cấp trực thuộc (không xếp hạng)",
                      f"{mark}. Units of the same level under it (not ranked)")
        for number, (code, now, before, change) in enumerate(figures.peers, start=1):
            _summary_row(sheet, number, code, labels.unit(code)[lang], now,
                         previous=before["overall"]["index"] if before else None, change=change, min_n=min_n)
    for level in plan.levels:
        body = figures.rankings[level]
        vi, en = render.LEVEL_LABELS[level]
        mark = next(letter)
        sheet.section(f"{mark}. Xếp hạng {vi.lower()}", f"{mark}. {en} ranking")
        for number, (entry, cell) in enumerate(zip(body["units"], figures.ranking_cells[level]), start=1):
            if entry["unit"] == plan.reference:
                continue
            before = entry["previous"]["index"] if entry["previous"] else None
            _summary_row(sheet, number, entry["unit"], entry["label"][lang], cell, rank=entry["rank"],
                         previous=before, change=entry["change"], min_n=min_n)
    sheet.row += 1
    sheet.note(
        f"Chỉ số hài lòng (%) của một tiêu chí: trung bình, trên những người trả lời, tỉ lệ câu trả lời "
        f"\"Hài lòng\" hoặc \"Rất hài lòng\" trong các câu của tiêu chí; chỉ số chung: trung bình các chỉ số "
        f"tiêu chí. KTC 95%: khoảng tin cậy 95%. Đơn vị có dưới {min_n} người trả lời: \"{NOT_ENOUGH_VI}\", "
        f"không xếp hạng, không công bố. Cùng chỉ số thì cùng hạng. Số liệu của đơn vị gồm cả các đơn vị "
        f"trực thuộc. Thay đổi: so với {plan.previous.label('vi')}, khi cả hai kỳ đều đủ số phiếu.",
        f"Index of a criterion: the mean, over respondents, of their share of \"satisfied\" or \"very "
        f"satisfied\" answers on its items; overall index: the mean of the criterion indices. A unit with "
        f"fewer than {min_n} respondents is \"{NOT_ENOUGH_EN}\": not ranked, not published. A unit's figures "
        f"include the units under it. Change: against {plan.previous.label('en')}, when both are published.", 48)
    sheet.signature(context["issuer"])


def _write_items(book, fmt, plan: ReportPlan, figures: Figures, context: dict) -> None:
    sheet = _Sheet(book, fmt, plan, context, ("Theo tiêu chí", "By criterion"),
                   ("Bảng 2. Chỉ số hài lòng theo từng nội dung", "Table 2. Satisfaction by item, criterion by criterion"),
                   [6, 70, 14, 14, 14, 30])
    lang = sheet.lang
    body = figures.items
    cell = body["cells"][0] if body["cells"] else None
    if cell is None:
        sheet.note("Không có phiếu nào trong kỳ.", "No submissions in the period.")
        return
    headers = ["STT\nNo.", "Nội dung\nItem", "Số câu trả lời hợp lệ\nValid answers",
               "Số câu hài lòng\nSatisfied answers", "Chỉ số (%)\nIndex (%)", "Ghi chú\nNote"]
    for number, criterion in enumerate(CRITERIA):
        vi, en = render.CRITERION_LABELS[criterion]
        crit = cell["criteria"][criterion]
        sheet.section(f"2.{number + 1}. {vi}", f"2.{number + 1}. {en}")
        if crit["index"] is not None:
            low, high = (crit["ci"] or ("–", "–"))
            sheet.note(
                f"Chỉ số tiêu chí: {_pct(crit['index'])}% (KTC 95%: {_pct(low) if crit['ci'] else '–'}–"
                f"{_pct(high) if crit['ci'] else '–'}); n = {_vn_number(crit['n'])}; điểm trung bình "
                f"{_pct(crit['mean_score'])}; tỉ lệ không hài lòng {_pct(crit['dissatisfied_pct'])}%",
                f"Criterion index: {_pct(crit['index'], 'en')}% (95% CI {_pct(low, 'en') if crit['ci'] else '–'}–"
                f"{_pct(high, 'en') if crit['ci'] else '–'}); n = {crit['n']:,}; mean score "
                f"{_pct(crit['mean_score'], 'en')}; dissatisfied {_pct(crit['dissatisfied_pct'], 'en')}%")
        else:
            sheet.note(f"n = {_vn_number(crit['n'])}: {NOT_ENOUGH_VI}", f"n = {crit['n']:,}: {NOT_ENOUGH_EN}")
        sheet.header(headers, 32)
        items = [item for item in cell.get("items", []) if item["criterion"] == criterion]
        for position, item in enumerate(items, start=1):
            sheet.put(0, position, "center")
            sheet.put(1, item["label"][lang] or item["label"]["vi"])
            sheet.put(2, item["answers"], "count")
            sheet.put(3, item["satisfied"], "count")
            if item["index"] is None:
                sheet.put(4, None)
                sheet.put(5, _not_enough(lang) if item["answers"] else sheet.t("chưa có câu trả lời", "no answers"),
                          "muted")
            else:
                sheet.put(4, item["index"], "index")
                sheet.put(5, "")
            sheet.ws.set_row(sheet.row, 30)
            sheet.row += 1
        sheet.row += 1


BREAKDOWN_HEADERS = [
    "Nhóm\nGroup", "Số phiếu\nSubmissions", "Số người trả lời (n)\nRespondents (n)",
    "Chỉ số chung (%)\nOverall index (%)", "KTC 95% — thấp\nCI low", "KTC 95% — cao\nCI high",
    "Giải quyết TTHC (%)\nProcedure (%)", "Công chức (%)\nStaff (%)", "Kết quả (%)\nResult (%)",
    "Điểm trung bình (1–5)\nMean score (1–5)", "Tỉ lệ không hài lòng (%)\nDissatisfied (%)", "Ghi chú\nNote"]
BREAKDOWN_WIDTHS = [34, 11, 12, 12, 10, 10, 12, 12, 12, 12, 12, 26]


def _breakdown_rows(sheet: _Sheet, body: dict, key: str, min_n: int) -> None:
    lang = sheet.lang
    sheet.header(BREAKDOWN_HEADERS, 45)
    if not body["cells"]:
        sheet.note("Không có phiếu nào.", "No submissions.")
    for cell in body["cells"]:
        label = cell["label"][key]
        sheet.put(0, label[lang] or label["vi"])
        sheet.put(1, cell["submissions"], "count")
        sheet.put(2, cell["n"], "count")
        if cell["overall"]["index"] is None:
            sheet.put(3, _not_enough(lang), "muted")
        else:
            sheet.put(3, cell["overall"]["index"], "index")
        ci = cell["overall"]["ci"] or (None, None)
        sheet.put(4, ci[0], "index")
        sheet.put(5, ci[1], "index")
        for offset, criterion in enumerate(CRITERIA):
            sheet.put(6 + offset, cell["criteria"][criterion]["index"], "index")
        sheet.put(9, cell["mean_score"], "index")
        sheet.put(10, cell["dissatisfied_pct"], "index")
        sheet.put(11, "" if cell["enough"] else sheet.t(f"dưới {min_n} người", f"fewer than {min_n}"),
                  "muted" if not cell["enough"] else "text")
        sheet.row += 1
    sheet.row += 1


def _write_channels(book, fmt, plan: ReportPlan, figures: Figures, context: dict) -> None:
    sheet = _Sheet(book, fmt, plan, context, ("Theo kênh", "By channel"),
                   ("Bảng 3. Chỉ số hài lòng theo kênh khảo sát", "Table 3. Satisfaction by survey channel"),
                   BREAKDOWN_WIDTHS)
    _breakdown_rows(sheet, figures.channels, "channel", plan.query.min_n)


def _write_background(book, fmt, plan: ReportPlan, figures: Figures, context: dict) -> None:
    sheet = _Sheet(book, fmt, plan, context, ("Theo đối tượng", "By respondent"),
                   ("Bảng 4. Chỉ số hài lòng theo đặc điểm người trả lời",
                    "Table 4. Satisfaction by the background questions"), BREAKDOWN_WIDTHS)
    if not plan.background:
        sheet.note("Biểu mẫu không có câu hỏi về đặc điểm người trả lời.", "The form asks no background question.")
    for number, path in enumerate(plan.background, start=1):
        field_ = plan.schema.get(path)
        sheet.section(f"4.{number}. {field_.label('vi')}", f"4.{number}. {field_.label('en')}")
        _breakdown_rows(sheet, figures.background[path], render.QUESTION + path, plan.query.min_n)


def _write_dissatisfied(book, fmt, plan: ReportPlan, figures: Figures, context: dict) -> None:
    sheet = _Sheet(book, fmt, plan, context, ("Không hài lòng", "Dissatisfied"),
                   ("Bảng 5. Ý kiến của người trả lời không hài lòng",
                    "Table 5. Submissions with a dissatisfied answer (1 or 2), newest first"),
                   [6, 12, 26, 16, 13, 10, 60, 50])
    lang = sheet.lang
    body = figures.dissatisfied
    shown = len(body["submissions"])
    sheet.note(f"Có {_vn_number(body['total'])} phiếu có ít nhất một câu trả lời \"Không hài lòng\" hoặc "
               f"\"Rất không hài lòng\"; hiển thị {_vn_number(shown)} phiếu mới nhất. Không có thông tin định danh.",
               f"{body['total']:,} submissions have at least one answer 1 or 2; the {shown:,} newest are listed. "
               f"No identifier is shown.", 32)
    sheet.header(["STT\nNo.", "Ngày\nDate", "Đơn vị\nUnit", "Kênh\nChannel", "Trạng thái\nReview",
                  "Số câu 1–2\nLow answers", "Nội dung không hài lòng\nItems rated 1 or 2", "Góp ý\nComment"], 32)
    position = 1 if lang == "en" else 0
    for number, entry in enumerate(body["submissions"], start=1):
        sheet.put(0, number, "center")
        sheet.put(1, "/".join(reversed(entry["date"].split("-"))))
        sheet.put(2, entry["unit_label"][lang] or entry["unit_label"]["vi"])
        sheet.put(3, render.CHANNEL_LABELS.get(entry["channel"], (entry["channel"],) * 2)[position])
        sheet.put(4, REVIEW_LABELS.get(entry["review_state"], (entry["review_state"],) * 2)[position])
        sheet.put(5, len(entry["low_answers"]), "count")
        sheet.put(6, "; ".join(f"{a['label'][lang] or a['label']['vi']} ({a['value']})" for a in entry["low_answers"]))
        sheet.put(7, entry["comment"] or "")
        sheet.row += 1


def _chart_rows(height: int) -> int:
    return int(height / 20) + 2


def _write_charts(book, fmt, plan: ReportPlan, figures: Figures, context: dict) -> None:
    sheet = _Sheet(book, fmt, plan, context, ("Biểu đồ", "Charts"), ("Biểu đồ", "Charts"),
                   [34, 14, 14, 14, 14, 4, 12, 12, 12, 12, 12, 12])
    ws, lang = sheet.ws, sheet.lang
    period_label = plan.period.label(lang)
    # chart 1: the first ranked level, ranked units only (a missing index is no bar)
    level = plan.levels[0] if plan.levels else None
    ranked = []
    if level is not None:
        ranked = [u for u in figures.rankings[level]["units"] if u["rank"] is not None and u["unit"] != plan.reference]
    vi, en = render.LEVEL_LABELS[level] if level else ("", "")
    sheet.section(f"Biểu đồ 1. Chỉ số hài lòng chung theo đơn vị {vi.lower()}, {period_label}",
                  f"Chart 1. Overall index by unit ({en.lower()}), {period_label}")
    sheet.header(["Đơn vị\nUnit", "Chỉ số chung (%)\nOverall index (%)", "Xếp hạng\nRank"], 32)
    bar_first = sheet.row
    for entry in ranked:
        sheet.put(0, entry["label"][lang])
        sheet.put(1, entry["index"], "index")
        sheet.put(2, entry["rank"], "center")
        sheet.row += 1
    bar_last = sheet.row - 1
    if not ranked:
        sheet.note("Chưa có đơn vị nào đủ số phiếu để xếp hạng.", "No unit has enough answers to be ranked.")
    chart_row = sheet.row + 1
    if ranked:
        height = max(300, 26 * len(ranked) + 120)
        bar = book.add_chart({"type": "bar"})
        bar.add_series({
            "name": sheet.t("Chỉ số hài lòng chung (%)", "Overall index (%)"),
            "categories": [ws.name, bar_first, 0, bar_last, 0],
            "values": [ws.name, bar_first, 1, bar_last, 1],
            "data_labels": {"value": True, "num_format": "0.00"},
            "fill": {"color": "#2F75B5"},
        })
        bar.set_title({"name": sheet.t(f"Chỉ số hài lòng chung theo đơn vị — {period_label}",
                                       f"Overall index by unit — {period_label}")})
        bar.set_x_axis({"min": 0, "max": 100, "name": "%"})
        bar.set_y_axis({"reverse": True})             # rank 1 at the top
        bar.set_legend({"none": True})
        bar.set_size({"width": 820, "height": height})
        ws.insert_chart(chart_row, 0, bar)
        chart_row += _chart_rows(height)
    sheet.row = chart_row
    # chart 2: overall and per criterion over the periods before this one
    sheet.section(f"Biểu đồ 2. Chỉ số hài lòng qua các kỳ (đến {period_label})",
                  f"Chart 2. Satisfaction over the periods (to {period_label})")
    sheet.header(["Kỳ\nPeriod", "Chung (%)\nOverall (%)", "Giải quyết TTHC (%)\nProcedure (%)",
                  "Công chức (%)\nStaff (%)", "Kết quả (%)\nResult (%)"], 32)
    kind = plan.period.kind
    cells = {cell["key"][kind]: cell for cell in figures.trend["cells"] if cell["key"][kind]}
    line_first = sheet.row
    for p in plan.trend:
        cell = cells.get(p.key)
        sheet.put(0, p.label(lang))
        sheet.put(1, cell["overall"]["index"] if cell else None, "index")
        for offset, criterion in enumerate(CRITERIA):
            sheet.put(2 + offset, cell["criteria"][criterion]["index"] if cell else None, "index")
        sheet.row += 1
    line_last = sheet.row - 1
    line = book.add_chart({"type": "line"})
    colours = ("#2F75B5", "#C55A11", "#548235", "#7F6000")
    for offset in range(1 + len(CRITERIA)):
        line.add_series({
            "name": [ws.name, line_first - 1, 1 + offset],
            "categories": [ws.name, line_first, 0, line_last, 0],
            "values": [ws.name, line_first, 1 + offset, line_last, 1 + offset],
            "marker": {"type": "circle"},
            "line": {"color": colours[offset], "width": 2.25 if offset == 0 else 1.5},
        })
    line.set_title({"name": sheet.t("Chỉ số hài lòng qua các kỳ", "Satisfaction over time")})
    line.set_y_axis({"min": 0, "max": 100, "name": "%"})
    line.show_blanks_as("gap")                         # a period without enough answers is no point
    line.set_size({"width": 820, "height": 340})
    ws.insert_chart(sheet.row + 1, 0, line)
    sheet.row += 19
    # charts 3 to 5: one per criterion, its items
    cell = figures.items["cells"][0] if figures.items and figures.items["cells"] else None
    for number, criterion in enumerate(CRITERIA, start=3):
        vi, en = render.CRITERION_LABELS[criterion]
        sheet.section(f"Biểu đồ {number}. {vi}: chỉ số theo từng nội dung, {period_label}",
                      f"Chart {number}. {en}: index by item, {period_label}")
        items = [item for item in (cell or {}).get("items", []) if item["criterion"] == criterion]
        sheet.header(["Nội dung\nItem", "Chỉ số (%)\nIndex (%)"], 32)
        first = sheet.row
        for item in items:
            sheet.put(0, item["label"][lang] or item["label"]["vi"])
            sheet.put(1, item["index"], "index")
            sheet.row += 1
        if not items:
            sheet.note("Không có câu trả lời trong kỳ.", "No answers in the period.")
            continue
        height = max(220, 30 * len(items) + 110)
        chart = book.add_chart({"type": "bar"})
        chart.add_series({
            "name": sheet.t("Chỉ số (%)", "Index (%)"),
            "categories": [ws.name, first, 0, sheet.row - 1, 0],
            "values": [ws.name, first, 1, sheet.row - 1, 1],
            "data_labels": {"value": True, "num_format": "0.00"},
            "fill": {"color": colours[number - 2]},
        })
        chart.set_title({"name": sheet.t(vi, en)})
        chart.set_x_axis({"min": 0, "max": 100, "name": "%"})
        chart.set_y_axis({"reverse": True})
        chart.set_legend({"none": True})
        chart.set_size({"width": 820, "height": height})
        ws.insert_chart(sheet.row + 1, 0, chart)
        sheet.row += _chart_rows(height) + 1
    sheet.note(f"Chỉ vẽ các đơn vị, các kỳ và các nội dung đủ {plan.query.min_n} người trả lời.",
               f"Only units, periods and items with at least {plan.query.min_n} respondents are drawn.")


COVERAGE_COLUMNS = [("Kế hoạch\nPlanned", "planned"), ("Dự phòng đã dùng\nReserves used", "reserves_used"),
                    ("Đã khảo sát\nReached", "reached"), ("Từ chối\nRefused", "refused"),
                    ("Không liên lạc được\nUnreachable", "unreachable"), ("Chưa tiếp cận\nPending", "pending")]


def _write_coverage(book, fmt, plan: ReportPlan, figures: Figures, context: dict) -> None:
    sheet = _Sheet(book, fmt, plan, context, ("Độ bao phủ mẫu", "Sample coverage"),
                   ("Bảng 6. Độ bao phủ của mẫu khảo sát", "Table 6. Coverage of the sample plans"), [34] + [12] * 8)
    sheet.note("Tỷ lệ phản hồi = đã khảo sát / (đã khảo sát + từ chối + không liên lạc được); tỷ lệ hoàn thành = "
               "đã khảo sát / kế hoạch.",
               "Response rate = reached / (reached + refused + unreachable); completion = reached / planned.", 30)
    labels, lang = context["labels"], context["lang"]
    for result in figures.coverage:
        p = result["plan"]
        sheet.section(f"Kế hoạch số {p['id']}, kỳ {p['period']}, hạt giống {p['seed']}",
                      f"Plan {p['id']}, period {p['period']}, seed {p['seed']}")
        for title_vi, title_en, rows, by_unit in (("Theo đơn vị", "By unit", result["by_unit"], True),
                                                  ("Theo điều tra viên", "By surveyor", result["by_collector"], False)):
            sheet.header([f"{title_vi}\n{title_en}"] + [c for c, _ in COVERAGE_COLUMNS]
                         + ["Tỷ lệ phản hồi\nResponse rate", "Tỷ lệ hoàn thành\nCompletion"], 32)
            for key, cov in rows + [(None, result["total"])]:
                total = key is None
                if total:
                    label = sheet.t("Tổng", "Total")
                elif by_unit:
                    label = f"{labels.unit(key)[lang]} ({key})"
                else:
                    label = key or sheet.t("(chưa giao)", "(not assigned)")
                sheet.put(0, label, total=total)
                for col, (_, attr) in enumerate(COVERAGE_COLUMNS, start=1):
                    sheet.put(col, getattr(cov, attr), "count", total=total)
                for col, share in ((7, cov.response_rate), (8, cov.completion)):
                    sheet.put(col, None if share is None else round(float(share) * 100, 2), "index", total=total)
                sheet.row += 1
            sheet.row += 1


def write_report(db, plan: ReportPlan, target, *, workers: int = 2, now: datetime | None = None,
                 figures: Figures | None = None) -> Figures:
    """Write the workbook to `target` (a path or a binary file); returns the numbers it holds."""
    figures = figures or gather(db, plan, workers=workers)
    now = now or local_now()
    context = _context(db, plan, now)
    book = xlsxwriter.Workbook(target, {"strings_to_numbers": False, "strings_to_formulas": False,
                                        "strings_to_urls": False})
    en = plan.query.lang == "en"
    book.set_properties({"title": TITLE_EN if en else TITLE_VI, "subject": f"{plan.schema.form_id} {plan.period.key}",
                         "author": context["issuer"]["body"], "company": context["issuer"]["parent"]})
    fmt = _Formats(book)
    _write_summary(book, fmt, plan, figures, context)
    _write_items(book, fmt, plan, figures, context)
    _write_channels(book, fmt, plan, figures, context)
    _write_background(book, fmt, plan, figures, context)
    _write_dissatisfied(book, fmt, plan, figures, context)
    _write_charts(book, fmt, plan, figures, context)
    if figures.coverage:
        _write_coverage(book, fmt, plan, figures, context)
    book.close()
    return figures
