"""The walls between the packages, read from every import in the source.

import-linter (``lint-imports`` in ``make test``, contracts in pyproject.toml) checks the
same walls from the import graph; this test also reads what a graph of static imports
misses: imports inside functions (both do), and modules named by string to
``importlib.import_module`` or ``__import__`` (only this test).

Rules checked:

* npcore imports none of lessonkit, autograder, matplotlib, ipywidgets, nbgrader,
  nbformat, not even lazily or by string.
* autograder and lessonkit never import each other.
* npcore's core (everything but ``npcore.cli``, ``npcore.__main__`` and the package's own
  ``__init__``, whose lazy ``load_files``/``load_cluster`` come from the command-line
  layer) never imports ``npcore.cli``, the only part that reads files or streams.
* No import cycle between the modules of one package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("npcore", "autograder", "lessonkit")
FORBIDDEN_IN_NPCORE = (
    "lessonkit",
    "autograder",
    "matplotlib",
    "ipywidgets",
    "nbgrader",
    "nbformat",
)
# An import edge listed here would be left out of the cycle check (none is).
KNOWN_EDGES: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {
    _module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))
}


def _imports(name: str, path: Path) -> Iterator[str]:
    """Every module ``name`` imports: statements at any depth, and string arguments of
    ``importlib.import_module``/``__import__``."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from package import submodule`` imports the submodule, not the names of
            # the package's ``__init__``.
            for alias in node.names:
                yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if (
                called in ("import_module", "__import__")
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                yield first.value


IMPORTS = {name: sorted(set(_imports(name, path))) for name, path in MODULES.items()}


def _top(module: str) -> str:
    return module.split(".")[0]


def test_the_reader_sees_function_level_and_string_imports() -> None:
    assert "npcore.cli.sources" in IMPORTS["npcore"]  # inside __getattr__
    assert "lessonkit.diagrams" in IMPORTS["lessonkit.cli"]  # inside _run


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _top(m) == "npcore"))
def test_npcore_imports_no_course_or_notebook_package(module: str) -> None:
    bad = [i for i in IMPORTS[module] if _top(i) in FORBIDDEN_IN_NPCORE]
    assert bad == [], f"{module} imports {bad}"


@pytest.mark.parametrize(
    ("package", "other"), [("autograder", "lessonkit"), ("lessonkit", "autograder")]
)
def test_autograder_and_lessonkit_are_independent(package: str, other: str) -> None:
    bad = {m: i for m in MODULES if _top(m) == package for i in IMPORTS[m] if _top(i) == other}
    assert bad == {}


def test_the_core_never_imports_the_command_line_layer() -> None:
    shell = ("npcore", "npcore.__main__")
    core = [
        m
        for m in MODULES
        if _top(m) == "npcore" and m not in shell and not m.startswith("npcore.cli")
    ]
    assert "npcore.engine" in core and "npcore.load.yaml_safe" in core
    bad = {
        m: i for m in core for i in IMPORTS[m] if i == "npcore.cli" or i.startswith("npcore.cli.")
    }
    assert bad == {}


def _cycles(package: str) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    nodes = [m for m in MODULES if _top(m) == package]
    edges = {
        m: [i for i in IMPORTS[m] if i in nodes and i != m and (m, i) not in KNOWN_EDGES]
        for m in nodes
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in nodes:
        if v not in index:
            visit(v)
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle_within_a_package(package: str) -> None:
    assert _cycles(package) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    IMPORTS["npcore.model"].append("npcore.engine")  # engine imports model: now a loop
    try:
        assert any({"npcore.engine", "npcore.model"} <= set(c) for c in _cycles("npcore"))
    finally:
        IMPORTS["npcore.model"].remove("npcore.engine")
