"""The package's layering, read from the source with ``ast``: no upward import, no cycle.

Layers, lowest first (a module may import its own package and any lower layer,
never a higher one, nor another package of its own layer):

0. ground vocabulary: ``errors``, then the settings' sections ``config_engines``,
   ``config_limits``, ``config_storage``, ``config_webhooks``; 1. ``config``; 2. ``process``,
   ``restart_policy``, ``logs``; 3. ``embedded_redis``; 4. ``media``, ``models``, ``storage``;
5. ``engines``; 6. ``jobs``; 7. ``pipelines``, ``webhooks``; 8. ``worker``, ``api``;
9. ``supervisor``, ``cli_models``, ``cli_keys``, ``cli_webhooks``, ``cli_jobs`` (a client
of the HTTP API, importing nothing of the server); 10. ``cli``; 11. ``__main__``.

Every import counts, those inside functions too (they hide a dependency, not
remove it); imports under ``if TYPE_CHECKING:`` do not. And the gateway
reaches no engine: no import chain that starts in ``api/`` arrives at
``engines/`` or a model runtime.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).parents[2] / "src"
PACKAGE = "visiovox"
LAYERS: list[set[str]] = [
    {"errors", "__init__", "assets", "console"},
    {"config_engines", "config_limits", "config_storage", "config_webhooks"},
    {"config"},
    {"process", "restart_policy", "logs"},
    {"embedded_redis"},
    {"media", "models", "storage"},
    {"engines"},
    {"jobs"},
    {"pipelines", "webhooks"},
    {"worker", "api"},
    {"supervisor", "cli_models", "cli_keys", "cli_webhooks", "cli_jobs"},
    {"cli"},
    {"__main__"},
]
RANK = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}
MODEL_RUNTIMES = ("onnxruntime", "cv2", "faster_whisper", "piper", "llama_cpp", "dlib")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, *, is_package: bool) -> Iterator[str]:
    """Every module ``tree`` imports, absolute, outside ``if TYPE_CHECKING:`` blocks."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)
        yield from _imports(node, module, is_package=is_package)


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in (SRC / PACKAGE).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        found = set(_imports(tree, name, is_package=path.name == "__init__.py"))
        internal = {m for m in found if m in modules}
        external = {m for m in found if not m.startswith(PACKAGE + ".") and m != PACKAGE}
        graph[name] = internal | {m.split(".")[0] for m in external}
    return graph


GRAPH = _graph()


def _part(module: str) -> str:
    return module.split(".")[1] if "." in module else "__init__"


def _rank(module: str) -> int:
    part = _part(module)
    assert part in RANK, f"{module}: add its folder {part!r} to a layer in this test"
    return RANK[part]


def test_no_module_imports_a_higher_layer_or_a_sibling_package() -> None:
    wrong = []
    for module, imported in GRAPH.items():
        for target in imported:
            if not target.startswith(PACKAGE + "."):
                continue
            same_package = _part(target) == _part(module)
            if not same_package and _rank(target) >= _rank(module):
                wrong.append(f"{module} -> {target}")
    assert not wrong, "upward or sideways imports:\n" + "\n".join(sorted(wrong))


def _cycle_from(start: str) -> list[str] | None:
    path: list[str] = []
    on_path: set[str] = set()
    done: set[str] = set()

    def visit(module: str) -> list[str] | None:
        if module in on_path:
            return [*path[path.index(module) :], module]
        if module in done or module not in GRAPH:
            return None
        path.append(module)
        on_path.add(module)
        for target in sorted(GRAPH[module]):
            found = visit(target)
            if found:
                return found
        path.pop()
        on_path.discard(module)
        done.add(module)
        return None

    return visit(start)


def test_no_import_cycle() -> None:
    cycles = {tuple(sorted(c[:-1])) for m in GRAPH if (c := _cycle_from(m))}
    assert not cycles, "import cycles among:\n" + "\n".join(", ".join(c) for c in sorted(cycles))


def _reachable(start: str) -> dict[str, str]:
    """Every module reachable from ``start``, with the module that imported it."""
    seen = {start: ""}
    queue = [start]
    while queue:
        module = queue.pop()
        for target in GRAPH.get(module, ()):
            if target not in seen:
                seen[target] = module
                queue.append(target)
    return seen


def _chain(seen: dict[str, str], end: str) -> str:
    chain = [end]
    while seen[chain[-1]]:
        chain.append(seen[chain[-1]])
    return " -> ".join(reversed(chain))


@pytest.mark.parametrize("start", sorted(m for m in GRAPH if _part(m) == "api"))
def test_the_gateway_reaches_no_engine_even_transitively(start: str) -> None:
    seen = _reachable(start)
    heavy = [
        m for m in seen if m.startswith(f"{PACKAGE}.engines") or m.split(".")[0] in MODEL_RUNTIMES
    ]
    assert not heavy, "\n".join(_chain(seen, m) for m in heavy)
