"""The pages' JavaScript: small ES modules, and one way to talk to the server.

Every app's `static/` scripts are read as text (no bundler, no Node): each module stays short enough to
read in one sitting, the network is reached only through frontend/static/frontend/api.js (JSON with
CSRF, binary and text answers, and the reconnecting socket), and every relative import names a module
that exists and exports the names asked for, since the browser is the first to load them otherwise.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("frontend", "clinician", "dashboard", "worklist", "reporting", "priors", "accounts", "inference", "triage")
API = ROOT / "frontend" / "static" / "frontend" / "api.js"
MAX_LINES = 300
# What only api.js may do: reach the network, read the CSRF cookie.
NETWORK = {
    "fetch(": re.compile(r"(?<![\w.$])fetch\s*\("),
    "new WebSocket(": re.compile(r"\bnew\s+WebSocket\s*\("),
    "XMLHttpRequest": re.compile(r"\bXMLHttpRequest\b"),
    "the csrftoken cookie": re.compile(r"csrftoken="),
}
IMPORT = re.compile(r"""\bimport\s*(?:\{([^}]*)\}\s*from\s*)?["'](\.{1,2}/[^"']+)["']""", re.S)
REEXPORT = re.compile(r"""\bexport\s*\{([^}]*)\}\s*from\s*["'](\.{1,2}/[^"']+)["']""", re.S)
EXPORT_DECLARED = re.compile(r"\bexport\s+(?:async\s+)?(?:function\*?|const|let|var|class)\s+([A-Za-z_$][\w$]*)")
EXPORT_LIST = re.compile(r"\bexport\s*\{([^}]*)\}(?!\s*from)", re.S)


def scripts() -> list[Path]:
    return sorted(path for app in APPS for path in (ROOT / app / "static").rglob("*.js"))


def resolve(path: Path, target: str) -> Path | None:
    """The file a relative import loads: resolved as the browser does, under /static/, where every
    app's static folder is merged (clinician.js imports ../frontend/api.js)."""
    static = next(parent for parent in path.parents if parent.name == "static")
    url = PurePosixPath("/", path.relative_to(static).parent.as_posix(), target)
    parts: list[str] = []
    for part in url.parts[1:]:
        if part == "..":
            parts = parts[:-1]
        elif part != ".":
            parts.append(part)
    for app in APPS:
        candidate = ROOT / app / "static" / "/".join(parts)
        if candidate.is_file():
            return candidate
    return None


def code(path: Path) -> str:
    """The script without its comments (block comments, and line comments after a space or at a line start)."""
    text = re.sub(r"/\*.*?\*/", lambda block: "\n" * block[0].count("\n"), path.read_text(), flags=re.S)
    return re.sub(r"(^|\s)//.*", r"\1", text)


def names(clause: str) -> list[str]:
    """`a, b as c` -> the names as the other module knows them: a, b."""
    return [part.split(" as ")[0].strip() for part in clause.split(",") if part.strip()]


def exported(path: Path) -> set[str]:
    text = code(path)
    found = set(EXPORT_DECLARED.findall(text))
    for clause in EXPORT_LIST.findall(text) + [c for c, _ in REEXPORT.findall(text)]:
        found |= {part.split(" as ")[-1].strip() for part in clause.split(",") if part.strip()}
    return found


def test_the_scripts_are_found():
    found = {path.relative_to(ROOT).as_posix() for path in scripts()}
    assert {"frontend/static/frontend/api.js", "frontend/static/frontend/viewer.js",
            "frontend/static/frontend/study.js", "clinician/static/clinician/clinician.js"} <= found


@pytest.mark.parametrize("path", scripts(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_each_module_is_small(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines (at most {MAX_LINES}): split it"


def test_only_api_js_reaches_the_network():
    found = []
    for path in scripts():
        if path == API:
            continue
        text = code(path)
        for what, pattern in NETWORK.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line} uses {what}")
    assert not found, "use frontend/static/frontend/api.js instead:\n" + "\n".join(found)


def test_api_js_is_where_the_network_is_reached():
    text = code(API)
    assert NETWORK["fetch("].search(text) and NETWORK["new WebSocket("].search(text)


@pytest.mark.parametrize("path", scripts(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_imports_name_existing_exports(path):
    text = code(path)
    problems = []
    for clause, target in IMPORT.findall(text) + REEXPORT.findall(text):
        module = resolve(path, target)
        if module is None:
            problems.append(f"{target} does not exist")
            continue
        missing = sorted(set(names(clause)) - exported(module))
        if missing:
            problems.append(f"{target} does not export {', '.join(missing)}")
    assert not problems, f"{path.relative_to(ROOT)}: " + "; ".join(problems)
