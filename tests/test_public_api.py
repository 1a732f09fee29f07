"""The application calls other libraries through their public API only: a private name (one
beginning with ``_``) can change in any minor release, and a hospital upgrading a dependency for
a security fix must not find Itinera broken."""
import ast
from pathlib import Path

CRM = Path(__file__).resolve().parents[1] / "crm"


def own_names(tree: ast.Module) -> set[str]:
    """Names bound to Itinera's own modules and objects (relative imports, ``crm.…``)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("crm")):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def private_uses(path: Path, root: Path = CRM.parent) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = own_names(tree) | {"self", "cls"}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.endswith("__"):
            if not (isinstance(node.value, ast.Name) and node.value.id in own):
                found.append(f"{path.relative_to(root)}:{node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.ImportFrom) and not node.level and not (node.module or "").startswith("crm"):
            found += [f"{path.relative_to(root)}:{node.lineno}: from {node.module} import {a.name}"
                      for a in node.names if a.name.startswith("_")]
    return found


def test_no_private_name_of_another_library_is_used():
    found = [use for path in sorted(CRM.rglob("*.py")) for use in private_uses(path)]
    assert not found, "private names of other libraries:\n" + "\n".join(found)


def test_the_check_finds_a_private_call(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from flask import current_app\n"
                      "from .models import base\n"
                      "def f(session):\n"
                      "    base._plan(None)\n"  # Itinera's own: allowed
                      "    session._register_persistent(set())\n"
                      "    return current_app._get_current_object()\n", encoding="utf-8")
    assert private_uses(sample, tmp_path) == ["sample.py:5: session._register_persistent",
                                              "sample.py:6: current_app._get_current_object"]
