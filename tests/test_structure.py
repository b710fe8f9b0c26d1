"""The code's shape, as issue 17 asks it: no module over 600 lines (migrations aside), and
each opens with a line saying what it holds. (Which way imports point is checked by
import-linter in ``make lint``: the contracts in pyproject.toml.)"""

from __future__ import annotations

import ast
from pathlib import Path

import keepscore

ROOT = Path(keepscore.__file__).parent
MAX_LINES = 600


def modules() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "migrations" not in p.relative_to(ROOT).parts)


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
