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


# -- SQL only in the store ----------------------------------------------------------------------
SQL_HELPERS = {"sql_str", "sql_in", "sql_value", "quote", "literal", "one_of", "clause", "predicate", "key_filters", "key_predicates"}
FILTERED = {"read": 1, "count": 1, "read_rows": 1, "query_texts": 1, "update_where": 1, "delete": 1, "update": 1, "upsert": None,
            "put_if": 2}  # method -> position of its filter argument (the row filter, or the `only_if` guard)
FILTER_KEYWORDS = {"where", "only_if"}


def _outside_storage():
    paths = [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").rglob("*.py")]
    return paths + [p for p in (ROOT / "core").rglob("*.py") if (ROOT / "core" / "storage") not in p.parents]


def _is_text(node: ast.AST, strings: dict[str, bool]) -> bool:
    """Does this expression build SQL text: a str, an f-string, a concatenation, a join or a
    format of one, a conditional that may give one, or a name bound to any of these?"""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _is_text(node.left, strings) or _is_text(node.right, strings)
    if isinstance(node, ast.IfExp):
        return _is_text(node.body, strings) or _is_text(node.orelse, strings)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr in {"join", "format"} and _is_text(node.func.value, strings)
    if isinstance(node, ast.Name):
        return strings.get(node.id, False)
    return False


def _text_names(scope: ast.AST, outer: dict[str, bool]) -> dict[str, bool]:
    """Names that some assignment in this scope (not in nested functions) binds to SQL text."""
    names = dict(outer)
    todo = list(ast.iter_child_nodes(scope))
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and _is_text(node.value, names):
                    names[target.id] = True
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and isinstance(node.target, ast.Name) and node.value is not None:
            if _is_text(node.value, names):
                names[node.target.id] = True
        todo.extend(ast.iter_child_nodes(node))
    return names


def _sql_outside_storage(source: str, where: str) -> list[str]:
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("core.storage"):
            found += [f"{where}:{node.lineno} imports {a.name}" for a in node.names if a.name in SQL_HELPERS or a.name.startswith("_")]
        elif isinstance(node, ast.Attribute):
            base = ast.unparse(node.value)
            is_store = "store" in base or base.rsplit(".", 1)[-1] == "db"  # store, self.store, store(), a page's `db`
            if node.attr in {"sql_str", "sql_in", "sql_value"} or (node.attr in SQL_HELPERS and ("store" in base or "filters" in base)):
                found.append(f"{where}:{node.lineno} uses {node.attr}")
            elif node.attr in {"db", "table"} and is_store:  # the LanceDB connection, a raw table
                found.append(f"{where}:{node.lineno} touches {base}.{node.attr}")

    def calls(scope: ast.AST, outer: dict[str, bool]) -> None:
        strings = _text_names(scope, outer)
        todo = list(ast.iter_child_nodes(scope))
        while todo:
            node = todo.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                calls(node, strings)
                continue
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in FILTERED:
                position = FILTERED[node.func.attr]
                given = [k.value for k in node.keywords if k.arg in FILTER_KEYWORDS]
                if position is not None and len(node.args) > position and not (node.func.attr == "update" and len(node.args) < 3):
                    given.append(node.args[position])
                found.extend(f"{where}:{node.lineno} .{node.func.attr}(…, {ast.unparse(g)[:60]})" for g in given if _is_text(g, strings))
            todo.extend(ast.iter_child_nodes(node))

    calls(tree, {})
    return sorted(found, key=lambda line: int(line.split(" ", 1)[0].rsplit(":", 1)[1]))


def test_sql_text_lives_only_in_the_store():
    """Callers say which rows with typed filters (core.storage.filters) or the store's named reads:
    a filter string built outside storage is how user text once reached a query unquoted."""
    offenders = [line for path in _outside_storage() for line in _sql_outside_storage(path.read_text(), str(path.relative_to(ROOT)))]
    assert offenders == []


def test_the_sql_scan_sees_each_way_of_building_a_filter():
    """The scan above passes only if it can fail: each way SQL text reached the store before."""
    sample = (
        "from core.storage.store import Store, sql_str\n"
        "PENDING = \"status = 'pending'\"\n"
        "def f(store, q, op):\n"
        "    store.read('queries', where=f'query_id = {q}')\n"
        "    store.count('events', \"action = 'grade'\")\n"
        "    key = 'a = ' + q\n"
        "    op.delete('judgments', key)\n"
        "    store.read_rows('queries', PENDING)\n"
        "    store.update_where('runs', ' AND '.join([q]), {})\n"
        "    store.put_if('queries', {}, f'target.x = {q}', [])\n"
        "    store.db.open_table('runs')\n"
        "    self.store.table('runs').delete('true')\n"
        "    filters.predicate({'a': 1})\n"
        "    from core.storage.filters import Not, _many\n"
        "    store.read('queries', where={'status': 'pending'}, columns=['text'])\n"
        "    store.count('events', None)\n"
        "    store.table_names(), pa.table({}), open(q).read()\n"
        "    state.update(phase=q)\n"
    )
    found = [line.split(" ", 1)[1] for line in _sql_outside_storage(sample, "sample.py")]
    assert found == ["imports sql_str", ".read(…, f'query_id = {q}')", ".count(…, \"action = 'grade'\")", ".delete(…, key)",
                     ".read_rows(…, PENDING)", ".update_where(…, ' AND '.join([q]))", ".put_if(…, f'target.x = {q}')", "touches store.db",
                     "touches self.store.table", "uses predicate", "imports _many"]
