"""The layers of the code, as README's "How it fits together" draws them: HTTP views and CLI
commands (server/) call the application layer (actions/) for every change; only actions/ and
storage/ open write transactions, write the audit log or call a storage function that writes.

A storage function "writes" when its body opens a write transaction or a group commit, or runs
INSERT, UPDATE or DELETE; the list is worked out from storage/'s source, so a new writer is
covered at once.
"""
from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# opening the database also brings its schema up to date: not a change a request makes
NOT_A_CHANGE = {("db", "connect")}
# server modules still writing directly; each entry is debt to move into actions/, never to add to
KNOWN_DEBT: set[tuple[str, str]] = set()


@functools.cache
def _writers() -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / "storage").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for node in ast.parse(text).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                body = ast.get_source_segment(text, node)
                if any(word in body for word in ("write_transaction(", "group_commit.run(", "INSERT ", "UPDATE ", "DELETE ")):
                    found.add((path.stem, node.name))
    return found - NOT_A_CHANGE


def _storage_names(tree: ast.Module) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """What a module calls storage things by: {local name: storage module} for modules, and
    {local name: (module, function)} for functions imported by name."""
    modules, functions = {}, {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] != "storage":
                continue
            for alias in node.names:
                local = alias.asname or alias.name
                if len(parts) == 1:
                    modules[local] = alias.name          # from storage import users
                    functions[local] = ("db", alias.name)  # from storage import write_transaction
                else:
                    functions[local] = (parts[1], alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "storage" or alias.name.startswith("storage."):
                    modules[alias.asname or alias.name] = "*"
    return modules, functions


def _writes_in(path: Path, writers: set[tuple[str, str]]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules, functions = _storage_names(tree)
    writer_names = {name for _, name in writers}
    hits = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in functions:
            pair = functions[node.id]
            if pair in writers or (pair[0] == "db" and pair[1] == "write_transaction"):
                hits.add(f"{pair[0]}.{pair[1]}")
        elif isinstance(node, ast.Attribute):
            chain = []
            value = node
            while isinstance(value, ast.Attribute):
                chain.append(value.attr)
                value = value.value
            if not isinstance(value, ast.Name) or value.id not in modules:
                continue
            chain.reverse()
            module = modules[value.id]
            if module == "*":                       # storage.users.create_user / storage.write_transaction
                if len(chain) >= 2 and (chain[0], chain[1]) in writers:
                    hits.add(f"{chain[0]}.{chain[1]}")
                elif chain[0] == "write_transaction" or (chain[0] in writer_names and len(chain) == 1):
                    hits.add(f"storage.{chain[0]}")
            elif (module, chain[0]) in writers:
                hits.add(f"{module}.{chain[0]}")
    return hits


def _server_modules() -> list[Path]:
    return sorted((ROOT / "server").rglob("*.py"))


def test_the_writers_are_found():
    writers = _writers()
    # a few writers every reader of this test knows: if these are missed the scan is broken
    for known in (("submissions", "store"), ("audit", "record"), ("users", "create_user"),
                  ("reviews", "add_review")):
        assert known in writers
    assert ("submissions", "get_submission") not in writers


@pytest.mark.parametrize("path", _server_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_views_and_commands_change_nothing_themselves(path):
    relative = str(path.relative_to(ROOT))
    hits = _writes_in(path, _writers())
    debt = {name for module, name in KNOWN_DEBT if module == relative}
    assert hits - debt == set(), (
        f"{relative} writes through storage itself ({', '.join(sorted(hits - debt))}); "
        "make the change in actions/, with its audit entry in the same transaction")


def test_known_debt_is_still_debt():
    writers = _writers()
    for module, name in sorted(KNOWN_DEBT):
        assert name in _writes_in(ROOT / module, writers), f"{module}: {name} is paid; strike it off"


def test_the_scan_sees_a_direct_write(tmp_path):
    sample = tmp_path / "view.py"
    sample.write_text("import storage\nfrom storage import audit, users as u, write_transaction\n"
                      "def v(db):\n    with write_transaction(db):\n        audit.record(db, 'a', 'x')\n"
                      "    u.create_user(db)\n    storage.reviews.add_review(db)\n", encoding="utf-8")
    assert _writes_in(sample, _writers()) == {
        "db.write_transaction", "audit.record", "users.create_user", "reviews.add_review"}


LOWER_PACKAGES = ("actions", "storage", "aggregate", "exports", "sampling", "forms")


@pytest.mark.parametrize("package", LOWER_PACKAGES)
def test_no_lower_box_imports_the_server(package):
    """README's picture: server/ calls the layers below it, never the other way round."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            if any(n == "server" or n.startswith("server.") for n in names):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


def test_every_live_list_publishing_leaves_out_is_made_by_the_server():
    from actions.publish import LIVE_LISTS as left_out
    from server.media import LIVE_LISTS as made
    assert set(left_out) == set(made)
