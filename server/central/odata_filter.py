"""$filter and $orderby of the OData feed: parsed by odata-query (a maintained OData v4 parser),
checked against the form, and turned into the condition tree storage/odata_queries.py renders
as parametrised SQL. Nothing of the request reaches SQL as text: names are looked up among the
form's fields and __system's properties, values become parameters.

Beyond Central, the form's own fields can be filtered: select_one and text by equality (and
numeric comparisons on a select_one, whose choices are often 1..5), integers, decimals, dates
and times by any comparison, with and / or / not, `in`, and year() month() day() hour()
minute() second(). Identifier fields cannot be filtered (that would let anyone probe them).
Anything else is refused with 400 naming the clause.
"""
from __future__ import annotations

from datetime import datetime, timezone

from odata_query import ast
from odata_query.exceptions import ODataException
from odata_query.grammar import ODataLexer, ODataParser
from odata_query.roundtrip import AstToODataVisitor

from exports.schema import Field, FormSchema

from .csdl import edm_type
from .errors import CentralError

# __system property → how its stored value compares
SYSTEM_KINDS = {"submissionDate": "time", "updatedAt": "time", "submitterId": "int", "submitterName": "text",
                "reviewState": "text", "deviceId": "text", "formVersion": "text", "unit": "text",
                "channel": "text"}
_COMPARE = {ast.Eq: "eq", ast.NotEq: "ne", ast.Gt: "gt", ast.GtE: "ge", ast.Lt: "lt", ast.LtE: "le"}
_PARTS = ("year", "month", "day", "hour", "minute", "second")
_DATE_KINDS = ("time", "julian", "date")


def clause(node) -> str:
    try:
        return AstToODataVisitor().visit(node)
    except Exception:   # a node the printer does not know: its class name still says what it was
        return type(node).__name__


def _unsupported(node, reason_vi: str, reason_en: str) -> CentralError:
    return CentralError("unsupported_filter", clause=clause(node), reason=f"{reason_vi} / {reason_en}")


_KINDS = {"Edm.Int64": "int", "Edm.Decimal": "real", "Edm.Date": "date", "Edm.DateTimeOffset": "julian"}


def field_kind(f: Field) -> str:
    """How a field's stored text compares: as the type $metadata gives it."""
    return _KINDS.get(edm_type(f), "text")


def _path(node) -> list[str] | None:
    if isinstance(node, ast.Identifier) and not node.namespace:
        return [node.name]
    if isinstance(node, ast.Attribute):
        owner = _path(node.owner)
        return owner + [node.attr] if owner is not None else None
    return None


class Terms:
    """The names a request may use for one table of a form: __id, __system/…, and its fields."""

    def __init__(self, schema: FormSchema, repeat: str | None):
        self.schema, self.repeat = schema, repeat

    def resolve(self, node) -> tuple:
        names = _path(node)
        if names is None:
            raise _unsupported(node, "không phải tên trường", "not a field name")
        if names == ["__id"] and self.repeat is None:
            return ("sys", "__id", "text")
        if len(names) == 2 and names[0] == "__system" and names[1] in SYSTEM_KINDS:
            return ("sys", names[1], SYSTEM_KINDS[names[1]])
        relative = "/".join(names)
        path = f"{self.repeat}/{relative}" if self.repeat else relative
        f = self.schema.get(path)
        if f is None or f.is_container or f.repeat != self.repeat:
            raise _unsupported(node, "biểu mẫu không có trường này", "the form has no such field")
        if f.sensitive:
            raise _unsupported(node, "không lọc theo thông tin định danh", "identifier fields cannot be filtered")
        return ("field", f.path, field_kind(f), f.type)


def _literal(node, kind: str, whole) -> object:
    if isinstance(node, ast.Null):
        return None
    if kind in ("int", "real"):
        if isinstance(node, (ast.Integer, ast.Float)):
            return int(node.val) if isinstance(node, ast.Integer) else float(node.val)
        if isinstance(node, ast.String):
            try:
                return int(node.val) if kind == "int" else float(node.val)
            except ValueError:
                pass
        raise _unsupported(whole, "cần một số", "a number is needed")
    if kind == "text":
        if isinstance(node, ast.String):
            return node.val
        if isinstance(node, (ast.Integer, ast.Float)):
            return node.val     # choices such as 1..5 are names, kept as text
        raise _unsupported(whole, "cần một chuỗi", "a string is needed")
    if kind == "date":
        if isinstance(node, ast.Date):
            return node.val
        raise _unsupported(whole, "cần một ngày YYYY-MM-DD", "a date YYYY-MM-DD is needed")
    if isinstance(node, (ast.Date, ast.DateTime)):
        text = node.val if isinstance(node, ast.DateTime) else node.val + "T00:00:00Z"
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise _unsupported(whole, "thời điểm không hợp lệ", "not a valid time") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        moment = moment.astimezone(timezone.utc)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    raise _unsupported(whole, "cần một ngày hoặc thời điểm", "a date or a time is needed")


def _operand(terms: Terms, node, whole) -> tuple:
    """A term: a field, or year()…second() of a date or time field."""
    if isinstance(node, ast.Call):
        name = node.func.name if isinstance(node.func, ast.Identifier) else None
        if name not in _PARTS or len(node.args) != 1:
            raise _unsupported(node, "hàm không được hỗ trợ", "unsupported function")
        inner = terms.resolve(node.args[0])
        if inner[2] not in _DATE_KINDS:
            raise _unsupported(node, "chỉ dùng cho ngày hoặc thời điểm", "only for dates and times")
        return ("part", name, inner)
    return terms.resolve(node)


def _compare(terms: Terms, node: ast.Compare) -> tuple:
    left, right = node.left, node.right
    if isinstance(left, (ast._Literal)) and not isinstance(right, ast._Literal):
        left, right = right, left
        flipped = {ast.Gt: ast.Lt, ast.Lt: ast.Gt, ast.GtE: ast.LtE, ast.LtE: ast.GtE}
        comparator = flipped.get(type(node.comparator), type(node.comparator))
    else:
        comparator = type(node.comparator)
    term = _operand(terms, left, node)
    kind = "int" if term[0] == "part" else term[2]
    if comparator is ast.In:
        if not isinstance(right, ast.List):
            raise _unsupported(node, "cần một danh sách", "a list is needed")
        return ("in", term, [_literal(v, kind, node) for v in right.val])
    op = _COMPARE.get(comparator)
    if op is None:
        raise _unsupported(node, "phép so sánh không được hỗ trợ", "unsupported comparison")
    if not isinstance(right, ast._Literal) or isinstance(right, ast.List):
        raise _unsupported(node, "vế phải phải là một giá trị", "the right side must be a value")
    value = _literal(right, kind, node)
    if op not in ("eq", "ne") and value is not None and kind == "text":
        # a select_one with numeric choices (the 1..5 scale) compares as numbers; other text only by equality
        if term[0] == "field" and term[3] == "select1" and isinstance(right, (ast.Integer, ast.Float)):
            return ("cmp", op, ("field", term[1], "real"), float(right.val))
        raise _unsupported(node, "trường chữ chỉ so sánh bằng (eq, ne)", "text fields compare by eq, ne only")
    if op not in ("eq", "ne") and value is None:
        raise _unsupported(node, "null chỉ dùng với eq, ne", "null only with eq, ne")
    return ("cmp", op, term, value)


def _condition(terms: Terms, node) -> tuple:
    if isinstance(node, ast.BoolOp):
        op = "and" if isinstance(node.op, ast.And) else "or"
        return (op, _condition(terms, node.left), _condition(terms, node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return ("not", _condition(terms, node.operand))
    if isinstance(node, ast.Compare):
        return _compare(terms, node)
    raise _unsupported(node, "không phải một điều kiện được hỗ trợ", "not a supported condition")


def parse_filter(text: str, schema: FormSchema, repeat: str | None) -> tuple:
    try:
        tree = ODataParser().parse(ODataLexer().tokenize(text))
    except ODataException as exc:
        raise CentralError("bad_filter", detail=str(exc)[:200]) from None
    except Exception as exc:      # the parser's own errors on input it cannot read
        raise CentralError("bad_filter", detail=type(exc).__name__) from None
    return _condition(Terms(schema, repeat), tree)


def parse_orderby(text: str, schema: FormSchema, repeat: str | None) -> tuple:
    """$orderby: "a/b desc, c" → ((term, descending), ...)."""
    terms, order = Terms(schema, repeat), []
    for item in text.split(","):
        words = item.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise CentralError("bad_query", name="$orderby", value=item.strip()[:80])
        try:
            node = ODataParser().parse(ODataLexer().tokenize(words[0]))
        except Exception:
            raise CentralError("bad_query", name="$orderby", value=words[0][:80]) from None
        order.append((_operand(terms, node, node), len(words) == 2 and words[1].lower() == "desc"))
    return tuple(order)
