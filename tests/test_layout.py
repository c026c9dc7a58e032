"""The architecture the folders promise: core never imports Streamlit, and imports between
core's stages only run downwards (storage <- search <- labeling <- evaluation <- training <- commands)."""

from __future__ import annotations

import ast

from tests.conftest import ROOT

STAGES = ("storage", "search", "labeling", "evaluation", "training", "commands")  # bottom to top
SHARED = {"settings", "errors", "progress", "__init__"}  # core/*.py below every stage


def _imports(path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            if node.module == "core":
                names += [f"core.{a.name}" for a in node.names]
    return names


def _level(module: str) -> int:
    parts = module.split(".")
    if parts[0] != "core" or len(parts) < 2 or parts[1] in SHARED:
        return -1
    return STAGES.index(parts[1]) if parts[1] in STAGES else -1


def test_core_never_imports_streamlit():
    offenders = [f"{p.relative_to(ROOT)}: {n}" for p in (ROOT / "core").rglob("*.py") for n in _imports(p) if n.split(".")[0] == "streamlit"]
    assert offenders == []


def test_every_core_module_lives_in_a_stage():
    loose = [p.name for p in (ROOT / "core").glob("*.py") if p.stem not in SHARED]
    assert loose == []


def test_imports_between_stages_only_run_downwards():
    upward = []
    for path in (ROOT / "core").rglob("*.py"):
        here = _level("core." + ".".join(path.relative_to(ROOT / "core").with_suffix("").parts))
        upward += [f"{path.relative_to(ROOT)} -> {n}" for n in _imports(path) if n.startswith("core") and _level(n) > here >= 0]
        if path.parent == ROOT / "core":  # settings, errors: below every stage
            upward += [f"{path.relative_to(ROOT)} -> {n}" for n in _imports(path) if _level(n) >= 0]
    assert upward == []


def _navigation_sections() -> dict[str, list[str]]:
    """app.py's st.navigation argument as {section: [page path, …]}, read from the source."""
    tree = ast.parse((ROOT / "app.py").read_text())
    assigned = {t.id: node.value for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)}
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func) == "st.navigation")
    argument = call.args[0]
    argument = assigned.get(argument.id, argument) if isinstance(argument, ast.Name) else argument
    assert isinstance(argument, ast.Dict), "st.navigation expects sections, {header: [pages]}"
    return {ast.literal_eval(k): [ast.literal_eval(p.args[0]) for p in v.elts] for k, v in zip(argument.keys, argument.values)}


def test_the_sidebar_reads_as_the_loop_and_lists_every_page_once():
    sections = _navigation_sections()
    assert list(sections) == ["", "Data", "Label", "Model", "Admin"]
    listed = [path for paths in sections.values() for path in paths]
    assert sorted(listed) == sorted(f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py"))
