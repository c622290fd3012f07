"""The package's shape: no import cycles, no private name imported from another module.

Why a test: cycles (engine <-> detection, batch <-> batch_ray) and private imports
(`_Progress`) crept in before; they make modules impossible to read or reuse alone.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "unspin"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _runtime_imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(module, names, line) of every import that runs (TYPE_CHECKING blocks left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in ast.walk(node):
                skipped.add(id(inner))
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.extend((alias.name, [], node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            found.append((base, [alias.name for alias in node.names], node.lineno))
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for target, names, _line in _runtime_imports(path):
            # `from unspin.engine import config` imports the submodule unspin.engine.config.
            candidates = [f"{target}.{n}" for n in names if f"{target}.{n}" in modules]
            candidates = candidates or ([target] if target in modules else [])
            for other in candidates:
                # A package importing its own submodules, or a submodule its package's
                # siblings through it, is how packages are built, not a cycle of concerns.
                if other != name and not name.startswith(other + "."):
                    graph[name].add(other)
    return graph


def test_no_import_cycles() -> None:
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_no_private_name_is_imported_from_another_module() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for target, names, line in _runtime_imports(path):
            if not target.startswith("unspin"):
                continue
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private:
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line} {target}: {private}")
    assert not offenders, "\n".join(offenders)


def test_the_word_lists_are_one_family() -> None:
    """One closed-class list; the engine's and tracing's stop words are drawn from it (plus
    the halves of contractions, and the reporting verbs every news sentence has)."""
    from unspin.text import FUNCTION_WORDS, STOPWORDS, TRACING_STOP_WORDS

    assert {"s", "t"} == STOPWORDS - FUNCTION_WORDS
    assert {"said", "say", "says"} == TRACING_STOP_WORDS - FUNCTION_WORDS


def test_one_cache_folder_rule(monkeypatch, tmp_path) -> None:
    """Relation indexes, spinner dictionaries and converted models share one cache rule."""
    from unspin.text import cache_dir

    monkeypatch.delenv("UNSPIN_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "unspin"
    monkeypatch.setenv("UNSPIN_CACHE_DIR", str(tmp_path / "own"))
    assert cache_dir() == tmp_path / "own"
    monkeypatch.delenv("UNSPIN_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "unspin"
