"""Services never import a tasks module, not even lazily inside a function or through another module:
tasks import services, and services enqueue by task name through `daylit.enqueue`. Read from the source
with `ast`, so an import inside a function body counts too."""

import ast
import importlib
from pathlib import Path

from daylit.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
# Lowest first: each app may import only the apps before it (README "Layout").
APPS = ("daylit", "events", "connections", "sequences", "enrollments", "outreach_queue")
ENQUEUE_FUNCTIONS = {"enqueue", "enqueue_on_commit"}


def project_modules(root: Path = ROOT) -> dict[str, ast.Module]:
    """Every module of the apps (migrations aside), by dotted name, parsed."""
    modules = {}
    for app in APPS:
        for path in (root / app).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            if "migrations" in parts:
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = ast.parse(path.read_text(), filename=str(path))
    return modules


def imported_by(name: str, tree: ast.Module, known: set[str]) -> set[str]:
    """The project modules `name` imports anywhere in its body, with the packages each one executes."""
    is_package = any(other.startswith(name + ".") for other in known)
    targets = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing module's package
                package = name.split(".")[: len(name.split(".")) - node.level + is_package]
                base = ".".join(package + ([base] if base else []))
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import submodule`
    reached = set()
    for target in targets:
        parts = target.split(".")
        reached.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return reached & known


def tasks_reached_from_services(root: Path = ROOT) -> dict[str, list[str]]:
    """For each services module that reaches a tasks module through imports, the chain that does."""
    modules = project_modules(root)
    graph = {name: imported_by(name, tree, set(modules)) for name, tree in modules.items()}
    services = [n for n in modules if n.endswith(".services") or ".services." in n]
    found = {}
    for start in services:
        paths, queue = {start: [start]}, [start]
        while queue:
            current = queue.pop(0)
            for nxt in sorted(graph[current] - paths.keys()):
                paths[nxt] = paths[current] + [nxt]
                if nxt.endswith(".tasks"):
                    found[start] = paths[nxt]
                    break
                queue.append(nxt)
            if start in found:
                break
    return found


def test_the_walk_sees_real_services_and_tasks():
    modules = project_modules()
    assert {"connections.services", "outreach_queue.services.drafts", "enrollments.services"} <= set(modules)
    known = set(modules)
    tasks = imported_by("outreach_queue.tasks", modules["outreach_queue.tasks"], known)
    assert "outreach_queue.services" in tasks  # the walk does see imports (tasks import services)


def test_no_services_module_imports_a_tasks_module():
    assert tasks_reached_from_services() == {}


def test_a_lazy_import_inside_a_function_is_seen(tmp_path):
    (tmp_path / "connections").mkdir()
    (tmp_path / "connections" / "services.py").write_text(
        "def f():\n    from connections.tasks import process_webhook_delivery\n"
    )
    (tmp_path / "connections" / "tasks.py").write_text("from connections import services\n")
    for app in APPS:
        (tmp_path / app).mkdir(exist_ok=True)
    assert tasks_reached_from_services(tmp_path) == {
        "connections.services": ["connections.services", "connections.tasks"]
    }


def test_every_task_name_handed_to_enqueue_is_a_registered_task():
    """Services name tasks as strings; a typo would only be a log line at run time."""
    celery_app.loader.import_default_modules()
    names = {}
    for module, tree in project_modules().items():
        if module == "daylit.enqueue":  # the helper passes its own `name` on
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ENQUEUE_FUNCTIONS:
                first = node.args[0]
                value = first.value if isinstance(first, ast.Constant) else None
                if isinstance(first, ast.Name):
                    value = getattr(importlib.import_module(module), first.id)
                names[f"{module}:{node.lineno}"] = value
    assert len(names) >= 4  # webhooks (2), drafts, auto-send
    assert {where: name for where, name in names.items() if name not in celery_app.tasks} == {}


def test_apps_import_only_the_apps_below_them():
    modules = project_modules()
    known = set(modules)
    upward = {}
    for name, tree in modules.items():
        rank = APPS.index(name.split(".")[0])
        above = {m for m in imported_by(name, tree, known) if APPS.index(m.split(".")[0]) > rank}
        if above:
            upward[name] = sorted(above)
    assert upward == {}
