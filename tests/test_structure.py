"""The code's shape, as issue 17 asks it: no module over 600 lines (migrations aside), and
each opens with a line saying what it holds; the services, the selectors and the recorder
take keyword-only arguments; each app that is read has selectors, which never write. (Which
way imports point is checked by import-linter in ``make lint``: the contracts in
pyproject.toml.)"""

from __future__ import annotations

import ast
from pathlib import Path

import keepscore

ROOT = Path(keepscore.__file__).parent
MAX_LINES = 600


def modules() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "migrations" not in p.relative_to(ROOT).parts)


def service_modules() -> list[Path]:
    """The modules of services and selectors (``services.py``, ``selectors.py``,
    ``*_services.py``) and the recorder."""
    return [
        p
        for p in modules()
        if p.name in ("services.py", "selectors.py")
        or p.name.endswith("_services.py")
        or p.relative_to(ROOT).as_posix() == "history/recorder.py"
    ]


def test_no_module_is_over_600_lines() -> None:
    over = {
        str(p.relative_to(ROOT)): n
        for p in modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert over == {}
    assert len(modules()) > 250  # the walk found the code


def test_every_module_says_what_it_holds() -> None:
    silent = []
    for path in modules():
        text = path.read_text(encoding="utf-8")
        if text.strip() and not ast.get_docstring(ast.parse(text)):
            silent.append(str(path.relative_to(ROOT)))
    assert silent == []


def test_no_module_imports_itself_back_through_others() -> None:
    """The import graph of keepscore has no cycle (imports for type checking aside), lazy
    imports inside functions included: a lower layer is handed what it needs (docs/
    architecture.md), it does not import it back."""
    import grimp

    graph = grimp.build_graph("keepscore", exclude_type_checking_imports=True, cache_dir=None)
    edges = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    # Tarjan's strongly connected components, iteratively
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    assert cycles == []
    assert len(edges) > 250


def test_services_selectors_and_the_recorder_take_keywords_only() -> None:
    """Their public functions take keyword-only arguments, as the HackSoft styleguide asks
    (``def lead_create(*, organization, name, ...)``): every call names what it passes.
    A failure lists each offender as ``path:function(its positional parameters)``; a
    ``*args`` is one too."""
    positional = []
    for path in service_modules():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if node.name.startswith("_"):
                continue
            args = node.args
            names = [a.arg for a in (*args.posonlyargs, *args.args)]
            if args.vararg is not None:
                names.append(f"*{args.vararg.arg}")
            if names:
                positional.append(f"{path.relative_to(ROOT)}:{node.name}({', '.join(names)})")
    assert positional == [], "positional parameters: " + "; ".join(positional)
    assert len(service_modules()) > 15  # the walk found them


#: the model and queryset methods that write rows
WRITES = {"save", "delete", "create", "bulk_create", "bulk_update", "get_or_create"}
WRITES |= {"update_or_create", "set_rollback"}
#: the apps whose pages, API and commands read through a selectors module
READING_APPS = (
    "accounts",
    "audit",
    "economics",
    "focus",
    "followups",
    "funnel",
    "leads",
    "plan",
    "privacy",
    "scorecard",
)


def _writes_in(text: str, name: str) -> list[str]:
    """Where a module's source calls a write (``.save()``, ``.create()``, ...) or imports a
    services module (an app's writes), as ``name:line what``."""
    found = []
    for node in ast.walk(ast.parse(text)):
        where = f"{name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in WRITES:
                found.append(f"{where} .{node.func.attr}()")
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = {a.name for a in node.names}
            if node.module.endswith("services") or "services" in names:
                found.append(f"{where} imports {node.module} {sorted(names)}")
    return found


def test_selectors_read_and_never_write() -> None:
    """Each app that is read has a selectors module: its reads, which call no write and import
    no services (the app's writes are its ``services``)."""
    missing = [app for app in READING_APPS if not (ROOT / app / "selectors.py").exists()]
    assert missing == []
    selectors = sorted(ROOT.rglob("selectors.py"))
    assert {p.parent.name for p in selectors} >= set(READING_APPS)
    writes = [
        w
        for path in selectors
        for w in _writes_in(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]
    assert writes == [], "selectors that write: " + "; ".join(writes)


def test_the_write_scan_finds_writes() -> None:
    """The scan above finds what it looks for: a selectors module that writes is caught."""
    text = (
        "from keepscore.leads import services\n"
        "from keepscore.economics.services import spend_set\n\n"
        "def f(lead):\n    lead.save()\n    Lead.objects.bulk_create([])\n    {}.update()\n"
    )
    assert _writes_in(text, "probe.py") == [
        "probe.py:1 imports keepscore.leads ['services']",
        "probe.py:2 imports keepscore.economics.services ['spend_set']",
        "probe.py:5 .save()",
        "probe.py:6 .bulk_create()",
    ]
