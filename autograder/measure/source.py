"""Hygiene that no number shows, read from the submitted cell's source in the trusted process.

``evaluate`` must run its forward pass without gradient tracking. The outputs
are the same either way, and anything observed inside the sandbox can be
patched, so the grader reads the code instead: the model is called inside a
``with torch.no_grad()`` / ``torch.inference_mode()`` /
``torch.set_grad_enabled(False)`` block, or in a function decorated with one,
directly or through a helper defined in the same cell.
"""

from __future__ import annotations

import ast
from typing import Any

GUARDS = ("no_grad", "inference_mode")


def _is_guard(node: ast.AST) -> bool:
    """``torch.no_grad()``, ``no_grad()``, ``inference_mode()``, ``set_grad_enabled(False)``."""
    target = node.func if isinstance(node, ast.Call) else node
    name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
    if name in GUARDS:
        return True
    if name == "set_grad_enabled" and isinstance(node, ast.Call) and node.args:
        first = node.args[0]
        return isinstance(first, ast.Constant) and first.value is False
    return False


def _calls(node: ast.AST, names: set[str]) -> bool:
    return any(
        isinstance(child, ast.Call) and isinstance(child.func, ast.Name) and child.func.id in names
        for child in ast.walk(node)
    )


def _guarded(
    function: ast.FunctionDef, helpers: dict[str, ast.FunctionDef], seen: set[str]
) -> bool:
    seen = seen | {function.name}
    if any(_is_guard(decorator) for decorator in function.decorator_list):
        return True
    model = function.args.args[0].arg if function.args.args else None
    callees = {name for name in helpers if name not in seen}
    targets = ({model} if model else set()) | callees
    for node in ast.walk(function):
        guarded = isinstance(node, ast.With) and any(_is_guard(i.context_expr) for i in node.items)
        if guarded and _calls(ast.Module(body=node.body, type_ignores=[]), targets):
            return True
        if isinstance(node, ast.Expr) and _is_guard(node.value):
            return True
    for name in callees:
        if _calls(function, {name}) and _guarded(helpers[name], helpers, seen):
            return True
    return False


def no_grad_forward(source: str, function_name: str) -> dict[str, Any]:
    """Whether ``function_name`` in ``source`` calls its model with gradient tracking off."""
    source = "\n".join(
        line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))
    )
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        return {
            "found": False,
            "reason": f"the cell does not parse ({error.msg}, line {error.lineno})",
        }
    functions = {node.name: node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    if function_name not in functions:
        return {"found": False, "reason": f"the cell defines no function {function_name}"}
    found = _guarded(functions[function_name], functions, set())
    return {"found": found, "reason": None if found else "no forward pass under torch.no_grad()"}
