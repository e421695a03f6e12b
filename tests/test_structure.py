"""The package's imports run one way (README, "Layout"; the contracts in setup.cfg).

Read from the source with ``ast``, so imports inside functions count too: a lazy
import hides a circle, it does not remove it.
"""
import ast
import configparser
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "mediation"
SETUP_CFG = PACKAGE.parent / "setup.cfg"
# Where an import inside a function may stay: the app factory and the CLI wiring.
WIRING = {"mediation", "mediation.wiring", "mediation.cli", "mediation.audit.cli", "mediation.retention.cli"}
MAX_FUNCTION_IMPORTS = 10


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _known(name: str) -> str | None:
    """The module ``name`` stands for: itself, or the nearest enclosing module we have."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The project modules an import statement imports (empty for third-party ones)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names if a.name.split(".")[0] == "mediation"]
    else:
        if node.level:
            base = module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
            base = base[:len(base) - node.level + 1]
            parent = ".".join(base + ([node.module] if node.module else []))
        else:
            parent = node.module or ""
        if parent.split(".")[0] != "mediation":
            return []
        # ``from . import audit`` imports the module mediation.audit; ``from .x import y`` imports mediation.x.
        names = [f"{parent}.{a.name}" if f"{parent}.{a.name}" in MODULES else parent for a in node.names]
    return sorted({t for t in map(_known, names) if t})


def _walk(module: str, node, in_function: bool, lines: list[str]):
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            targets = _targets(module, child)
            if targets:
                yield module, child.lineno, targets, in_function, lines
        yield from _walk(module, child, in_function or isinstance(
            child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda), lines)


def _imports():
    """(module, line, targets, inside a function, source lines) for every project import."""
    for module, path in MODULES.items():
        source = path.read_text(encoding="utf-8")
        yield from _walk(module, ast.parse(source), False, source.splitlines())


def _graph() -> dict[str, set[str]]:
    graph = {m: set() for m in MODULES}
    for module, _line, targets, _in_function, _lines in _imports():
        graph[module].update(t for t in targets if t != module)
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
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
                        out.append(sorted(component))
    return out


def test_the_cycle_finder_finds_a_cycle():
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_in_a_circle():
    """Counting imports inside functions: no circle between the package's modules."""
    circles = _circles(_graph())
    assert not circles, "modules importing each other in a circle:\n" + "\n".join(" -> ".join(c) for c in circles)


def test_imports_inside_functions_are_few_wiring_only_and_explained():
    inside = [(m, line, lines) for m, line, _targets, in_function, lines in _imports() if in_function]
    where = [f"{MODULES[m].relative_to(PACKAGE.parent)}:{line}" for m, line, _lines in inside]
    assert len(inside) <= MAX_FUNCTION_IMPORTS, f"{len(inside)} project imports inside functions: {where[:20]}…"
    outside_wiring = [w for (m, _line, _lines), w in zip(inside, where, strict=True) if m not in WIRING]
    assert not outside_wiring, f"project imports inside functions outside the app factory and CLI: {outside_wiring}"
    unexplained = [w for (_m, line, lines), w in zip(inside, where, strict=True)
                   if "#" not in lines[line - 1] and not lines[line - 2].strip().startswith("#")]
    assert not unexplained, f"project imports inside functions without a comment saying why: {unexplained}"


def test_every_module_has_its_layer():
    """A new module is placed in the layers contract, so that lint-imports checks it."""
    config = configparser.ConfigParser()
    config.read(SETUP_CFG, encoding="utf-8")
    listed = set()
    for line in config["importlinter:contract:layers"]["layers"].split("\n"):
        listed.update(part.strip() for part in line.replace("|", ":").split(":") if part.strip())
    # The root (create_app) sits above every layer; packages' __init__ modules only re-export.
    packages = {m for m, p in MODULES.items() if p.name == "__init__.py"}
    assert set(MODULES) - packages - listed == set()
    assert listed - set(MODULES) == set()
