"""The packages' dependency direction: worklist uses inference and archive, never the other way;
reporting owns reports and worklist's own core never reaches up to it.

Every import statement in the files (at module level or inside a function) is read with ast, so a
late `from worklist ... import` inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("worklist", "clinician", "dashboard", "priors", "reporting", "frontend", "accounts")
FORBIDDEN = {
    "inference": ("worklist", "clinician", "dashboard", "priors", "reporting", "frontend"),
    "archive": (*APPS, "inference", "triage"),
    # The apps above tell worklist and reporting nothing by being imported: they subscribe to
    # signals sent after commit (worklist.signals.study_changed, reporting.signals.report_signed).
    "worklist": ("clinician", "priors", "dashboard", "frontend"),
    "reporting": ("clinician", "priors", "dashboard", "frontend"),
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def violations(package: str, forbidden: tuple[str, ...]) -> list[str]:
    out = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, module in imported_modules(path):
            if module.split(".")[0] in forbidden:
                out.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return out


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_lower_layers_do_not_import_the_apps_that_use_them(package):
    assert violations(package, FORBIDDEN[package]) == []


# Reports belong to reporting (issue 15), which builds on worklist's Study: the reading workflow,
# signing, report PDFs and their archiving all live in reporting, and worklist never imports it
# (reporting's models cannot come back into worklist through a re-export or a cycle).
def test_worklist_does_not_import_reporting():
    assert violations("worklist", ("reporting",)) == []


def test_worklist_models_hold_no_report_model():
    import worklist.models

    for name in ("FindingReview", "FindingDecision", "Report", "ReportVersion", "CriticalResult"):
        assert not hasattr(worklist.models, name), name


def test_the_check_sees_imports_inside_functions(tmp_path, monkeypatch):
    module = tmp_path / "inference" / "late.py"
    module.parent.mkdir()
    module.write_text("def f():\n    from worklist.models import Study\n    import clinician.views\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert violations("inference", FORBIDDEN["inference"]) == [
        "inference/late.py:2 imports worklist.models", "inference/late.py:3 imports clinician.views"]
