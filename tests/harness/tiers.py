"""Which tier a test belongs to, read from what it uses, so a new test is placed without a marker.

- `browser`: it uses Playwright (the `page`, `context`, `browser` … fixtures), hence Chromium.
- `server`: it starts a server process: its own code, a fixture it uses (at any depth), or a
  project function either of them calls reaches `LiveServer`.
- neither: the fast tier (`make test-fast`), in-process only.

The reach is read from the names each function's code refers to, resolved in its module, and
followed through every function that is not part of Python or an installed library.
"""
from __future__ import annotations

import sys
import sysconfig
import types
from pathlib import Path

from .site import LiveServer

# pytest-playwright's fixtures that start (or can start) a browser; `page` and `context` need them
BROWSER_FIXTURES = frozenset({"playwright", "browser_type", "launch_browser", "browser"})
_LIBRARIES = tuple({Path(sysconfig.get_paths()[key]).resolve() for key in ("stdlib", "platstdlib", "purelib", "platlib")})


def _ours(code: types.CodeType) -> bool:
    """Code of the project or of its tests, not of Python or an installed package."""
    if code.co_filename.startswith("<"):
        return False
    path = Path(code.co_filename).resolve()
    return not any(path.is_relative_to(library) for library in _LIBRARIES)


def _codes(code: types.CodeType):
    """The code object and those nested in it (inner functions, lambdas, comprehensions)."""
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _unwrap(obj):
    # pytest's fixture objects and functools.wraps keep the function in __wrapped__ / _get_wrapped_function
    getter = getattr(obj, "_get_wrapped_function", None)
    obj = getter() if getter else obj
    while hasattr(obj, "__wrapped__"):
        obj = obj.__wrapped__
    return obj


# codes known to reach LiveServer, and codes from which a complete search found nothing
_REACHES: set[types.CodeType] = set()
_NEVER: set[types.CodeType] = set()


def reaches_live_server(func) -> bool:
    """Whether calling `func` may start a LiveServer, as far as its code shows."""
    code = getattr(_unwrap(func), "__code__", None)
    if code in _REACHES:
        return True
    seen: set[types.CodeType] = set()
    if _search(func, seen):
        _REACHES.add(code)
        return True
    # nothing reachable from func reaches it, so nothing reachable from what it reaches does either
    _NEVER.update(seen)
    return False


def _search(func, seen: set) -> bool:
    func = _unwrap(func)
    code = getattr(func, "__code__", None)
    # this module names LiveServer only to look for it
    if (code is None or code in seen or code in _NEVER or not _ours(code)
            or getattr(func, "__module__", None) == __name__):
        return False
    if code in _REACHES:
        return True
    seen.add(code)
    scope = getattr(func, "__globals__", {})
    for inner in _codes(code):
        names = inner.co_names
        # `import m` / `from m import f` inside a function: m is only in sys.modules
        modules = [m for m in (scope.get(n) or sys.modules.get(n) for n in names)
                   if isinstance(m, types.ModuleType)]
        for name in names:
            for obj in [scope.get(name)] + [getattr(m, name, None) for m in modules]:
                if isinstance(obj, type) and issubclass(obj, LiveServer):
                    return True
                if isinstance(obj, (types.FunctionType, types.MethodType)) and _search(obj, seen):
                    return True
    return False


def tiers_of(item) -> set[str]:
    """The tier markers an item earns from its code and fixtures."""
    tiers = set()
    names = set(getattr(item, "fixturenames", ()))
    if names & BROWSER_FIXTURES:
        tiers.add("browser")
    functions = [getattr(item, "function", None)]
    info = getattr(item, "_fixtureinfo", None)
    for name in names:
        definitions = list(info.name2fixturedefs.get(name, ())) if info else []
        # the nearest definition wins; it reaches the one it overrides only by asking for its own name
        while definitions:
            definition = definitions.pop()
            functions.append(definition.func)
            if name not in definition.argnames:
                break
    if any(f is not None and reaches_live_server(f) for f in functions):
        tiers.add("server")
    return tiers
