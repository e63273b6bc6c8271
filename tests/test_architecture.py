"""The layout is a rule, not a habit: these tests walk every import (ast, no code runs) and fail
on one that breaks it, naming the file and the line (docs/architecture.md).

- Features depend one way: core ← points ← community ← ambassador ← demo.
- A feature uses another feature's `services` and `schemas` (and points' `rules` catalogue), never
  its `models` (nor its pages, API, jobs or commands). The kernel (`core`) is open to every feature.
- Inside a feature, a lower area never imports a higher one (the order of the feature's AREAS);
  the modules shared by a feature's areas (such as ambassador/models.py) import no area at all.
  The kernel's own modules are the exception: some stand below its areas (db, errors), some
  above (pages, idempotency), and every feature stands on all of them.
- Cross-feature reactions go through core.signals, connected in the feature's `init_app`: no
  receiver is connected as a side effect of an import.
"""
from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass
from pathlib import Path

import core

ROOT = Path(core.__file__).resolve().parent.parent
FEATURES = core.FEATURES
# What a feature offers the features above it: its services and schemas, and points' catalogue of
# earning-rule kinds (points.rules) that the others pay by.
OPEN_TO_OTHER_FEATURES = ("services", "schemas", "rules")


@dataclass(frozen=True)
class Place:
    feature: str
    area: str | None  # None: a module of the feature itself (its __init__, or shared by its areas)
    module: str

    @property
    def rank(self) -> int:
        return FEATURES.index(self.feature)


def areas_of(feature: str) -> tuple[str, ...]:
    return tuple(getattr(importlib.import_module(feature), "AREAS", ()))


def place_of(module: str) -> Place | None:
    parts = module.split(".")
    if parts[0] not in FEATURES:
        return None
    area = parts[1] if len(parts) > 2 and parts[1] in areas_of(parts[0]) else None
    return Place(parts[0], area, module)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_files():
    for feature in FEATURES:
        yield from sorted((ROOT / feature).rglob("*.py"))


def imports(path: Path):
    """(line, imported module) for every import in the file, inside functions too."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                # `from pkg import name`: name may be a module of pkg (from community.orders import services)
                candidate = f"{base}.{alias.name}"
                yield node.lineno, candidate if (ROOT / candidate.replace(".", "/")).with_suffix(".py").exists() \
                    or (ROOT / candidate.replace(".", "/")).is_dir() else base


def area_rank(feature: str, area: str | None) -> int:
    return -1 if area is None else areas_of(feature).index(area)


def violation(source: Place, target: Place) -> str | None:
    if target.rank > source.rank:
        return f"{source.feature} must not import {target.feature} (features depend one way: {' ← '.join(FEATURES)})"
    if target.feature != source.feature:
        kind = target.module.rsplit(".", 1)[-1]
        if target.feature != "core" and kind not in OPEN_TO_OTHER_FEATURES and target.module != target.feature:
            return f"another feature's {kind} ({target.module}): use its services or schemas"
        return None
    if source.area is None and source.feature != "core" and source.module != source.feature and target.area is not None:
        return f"{source.module} is shared by the areas of {source.feature}: it must not import an area ({target.module})"
    if source.area is not None and area_rank(source.feature, target.area) > area_rank(source.feature, source.area):
        order = " < ".join(areas_of(source.feature))
        return f"area {source.area} must not import the higher area {target.area} ({order})"
    return None


def test_every_import_follows_the_dependency_rule():
    problems = []
    for path in source_files():
        source = place_of(module_name(path))
        for line, imported in imports(path):
            target = place_of(imported)
            if target is not None and (problem := violation(source, target)):
                problems.append(f"{path.relative_to(ROOT)}:{line}: {problem}")
    assert not problems, "\n".join(problems)


def test_areas_listed_are_the_sub_packages_on_disk():
    for feature in FEATURES:
        on_disk = {p.parent.name for p in (ROOT / feature).glob("*/__init__.py")}
        listed = set(areas_of(feature))
        assert listed == on_disk, f"{feature}.AREAS {sorted(listed)} but sub-packages {sorted(on_disk)}"


def test_no_receiver_is_connected_at_import_time():
    problems = []
    for path in source_files():
        tree = ast.parse(path.read_text(), str(path))
        functions = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                     for n in ast.walk(f)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "connect"
                    and id(node) not in functions):
                problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: connect a receiver in init_app, not at import")
    assert not problems, "\n".join(problems)


def test_the_rule_catches_what_it_should():
    """The checker itself: each kind of violation is reported (a rule that never fires proves nothing)."""
    def check(source: str, target: str) -> str | None:
        return violation(place_of(source), place_of(target))

    assert "one way" in check("points.services", "community.orders.services")
    assert "another feature's models" in check("ambassador.members.services", "community.estates.models")
    assert "another feature's views" in check("ambassador.members.views", "community.stats.views")
    assert "higher area" in check("community.stewards.services", "community.orders.services")
    assert "must not import an area" in check("ambassador.models", "ambassador.levels.models")
    assert check("ambassador.members.services", "community.estates.services") is None
    assert check("community.orders.services", "community.stats.services") is None
    assert check("community.orders.services", "community.estates.models") is None
    assert check("community.feed.services", "core.accounts.models") is None
    assert check("community", "community.feed.services") is None
