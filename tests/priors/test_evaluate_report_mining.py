"""evaluate_report_mining prints what a recount of the labelled set gives (the measured figures live in docs)."""

import json
import re
from io import StringIO

from django.core.management import call_command

from priors.evaluation import LABELLED_SET, load_labelled
from priors.mining import FEATURES, birads_level, mine_mammography_report


def table_of(output: str) -> dict[str, list[str]]:
    rows = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) > 1 and not set(cells[0]) <= {"-"}:
            rows[cells[0]] = cells[1:]
    return rows


def recount(reports: list[dict]) -> dict[str, str]:
    """The table's cells computed again, independently of priors.evaluation."""
    n = len(reports)
    pairs_of = [(mine_mammography_report(r["text"]), r) for r in reports]

    def cell(hits, total):
        return f"{hits / total:.3f} ({hits}/{total})" if total else "n/a (0/0)"

    cells = {
        "reports (n)": str(n),
        "BI-RADS category, exact": cell(sum(m.birads == r["birads"] for m, r in pairs_of), n),
        "BI-RADS level 0-6 (4A/4B/4C = 4)": cell(
            sum(birads_level(m.birads) == birads_level(r["birads"]) for m, r in pairs_of), n),
        "density a-d": cell(sum(m.density == r["density"] for m, r in pairs_of), n),
    }
    for kind in FEATURES:
        pairs = [(m.has(kind), r["features"][kind]) for m, r in pairs_of]
        tp = sum(found and gold for found, gold in pairs)
        cells[f"{kind}: precision"] = cell(tp, sum(found for found, _ in pairs))
        cells[f"{kind}: recall"] = cell(tp, sum(gold for _, gold in pairs))
    return cells


def test_the_labelled_set_is_as_large_and_as_split_as_the_issue_asks():
    reports = load_labelled()
    parts = {r["part"] for r in reports}
    assert len(reports) >= 150 and parts == {"dev", "heldout", "heldout_hand"}
    assert sum(r["part"] != "dev" for r in reports) >= 60
    assert len({r["id"] for r in reports}) == len(reports)
    assert all(r["birads"] in (None, "0", "1", "2", "3", "4", "4A", "4B", "4C", "5", "6") for r in reports)


def test_the_printed_table_equals_a_recount_per_part():
    out = StringIO()
    call_command("evaluate_report_mining", stdout=out)
    table = table_of(out.getvalue())
    header = table["measure"]
    reports = load_labelled()
    for column, part in enumerate(header):
        expected = recount([r for r in reports if r["part"] == part])
        for measure, value in expected.items():
            assert table[measure][column] == value, (part, measure)


def test_it_measures_any_labelled_file(tmp_path):
    path = tmp_path / "set.jsonl"
    rows = [{"id": "a", "part": "dev", "text": "BI-RADS 2. ACR B. Benign calcifications right.", "birads": "2",
             "density": "b", "laterality": "right", "features": {k: k == "calcifications" for k in FEATURES}},
            {"id": "b", "part": "dev", "text": "BI-RADS 4A.", "birads": "4B", "density": "c", "laterality": None,
             "features": {k: k == "mass" for k in FEATURES}}]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    out = StringIO()
    call_command("evaluate_report_mining", "--file", str(path), stdout=out)
    table = table_of(out.getvalue())
    assert table["BI-RADS category, exact"] == ["0.500 (1/2)"]
    assert table["BI-RADS level 0-6 (4A/4B/4C = 4)"] == ["1.000 (2/2)"]
    assert table["density a-d"] == ["0.500 (1/2)"]
    assert table["mass: recall"] == ["0.000 (0/1)"] and table["mass: precision"] == ["n/a (0/0)"]
    assert re.fullmatch(r"1\.000 \(1/1\)", table["calcifications: precision"][0])


def test_the_labelled_file_is_what_the_generators_write():
    from priors.data.build import build

    assert load_labelled(LABELLED_SET) == build()
