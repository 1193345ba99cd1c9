"""A whole-project check before a phase writes: every ``from project.module import name`` still resolves.

The native phase rewrites several modules at once (a module-level client becomes a factory, a helper
moves); a name that disappears from one module while another still imports it would pass ``compile()``
and break at import time. Checked over the new sources of the rewritten files and the current sources of
all the others; a change set that fails is not written at all (a partial write would be worse).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable


def _top_level_names(tree: ast.Module) -> set[str] | None:
    """Names a module binds at top level (None when a star import makes that unknowable)."""
    names: set[str] = set()
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, ast.Import):
            names.update((a.asname or a.name).split(".", 1)[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if any(a.name == "*" for a in node.names):
                return None
            names.update(a.asname or a.name for a in node.names)
        elif isinstance(node, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
            for field in ("body", "orelse", "finalbody", "handlers"):
                for child in getattr(node, field, []):
                    stack.extend(child.body if isinstance(child, ast.ExceptHandler) else [child])
        elif getattr(ast, "TypeAlias", None) and isinstance(node, ast.TypeAlias):  # Python 3.12+
            names.add(node.name.id)  # type: ignore[attr-defined]
    return names


def broken_imports(sources: dict[str, tuple[str, bool, str]], changed: Iterable[str],
                   before: dict[str, str] | None = None) -> list[str]:
    """``sources``: path -> (module name, is_package, source after the rewrite). ``changed``: rewritten paths.
    ``before``: the changed files' sources before the rewrite; with them, an unchanged file is only read
    when it mentions a name a changed module stopped binding (none, usually: then nothing else is parsed).

    Returns one line per import of a project module's name that no longer exists.
    """
    changed = set(changed)
    removed: dict[str, set[str] | None] = {}  # changed path -> top-level names it lost (None: unknown)
    if before is not None:
        for path in changed:
            if path not in sources:
                continue
            try:
                old = _top_level_names(ast.parse(before.get(path, "")))
                new = _top_level_names(ast.parse(sources[path][2]))
            except (SyntaxError, ValueError):
                old = new = None
            removed[path] = None if old is None or new is None else old - new
    modules: dict[str, str] = {module: path for path, (module, _, _) in sources.items()}
    trees: dict[str, ast.Module | None] = {}

    def tree(path: str) -> ast.Module | None:
        if path not in trees:
            try:
                trees[path] = ast.parse(sources[path][2])
            except (SyntaxError, ValueError):
                trees[path] = None
        return trees[path]

    exported: dict[str, set[str] | None] = {}
    out: list[str] = []
    # an unchanged file can only import from a changed module if it spells that module's last name
    spellings = {sources[c][0].rpartition(".")[2] for c in changed if c in sources}
    known = before is not None and all(r is not None for r in removed.values())
    lost = set().union(*(r for r in removed.values() if r)) if known else set()
    for path, (module, is_package, text) in sorted(sources.items()):
        if path not in changed and (not any(name in text for name in spellings)
                                    or (known and not any(name in text for name in lost))):
            continue
        parsed = tree(path)
        if parsed is None:
            continue
        package = module if is_package else module.rpartition(".")[0]
        for node in ast.walk(parsed):
            if not isinstance(node, ast.ImportFrom):
                continue
            base = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
                base = ".".join(parts + ([node.module] if node.module else []))
            target = modules.get(base)
            if target is None or (target not in changed and path not in changed):
                continue
            if target not in exported:
                target_tree = tree(target)
                exported[target] = _top_level_names(target_tree) if target_tree is not None else None
            names = exported[target]
            if names is None:
                continue
            gone = removed.get(target) if path not in changed else None
            for alias in node.names:
                if gone is not None and alias.name not in gone:
                    continue  # the rewrite did not remove it (an import broken before is not ours to report)
                if alias.name != "*" and alias.name not in names and f"{base}.{alias.name}" not in modules:
                    out.append(f"{path}:{node.lineno} imports `{alias.name}` from {base}, which the rewrite "
                               f"no longer defines")
    return out
