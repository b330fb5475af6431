"""Writes priors/data/mammography_reports_labelled.jsonl from the two generators (synthetic text).

    python -m priors.data.build

Dev: 80 generated US-style reports and the hand-written tricky ones (the rules are tuned on these).
Held-out: 80 reports from the independent generator in heldout_reports.py, and 30 hand-written ones in
heldout_hand.py (neither tuned on).
"""

import json
from pathlib import Path

from priors.data import dev_reports, heldout_hand, heldout_reports

LABELLED_SET = Path(__file__).with_name("mammography_reports_labelled.jsonl")


def build() -> list[dict]:
    return (dev_reports.generate(80) + dev_reports.hand_written() + heldout_reports.generate(80)
            + heldout_hand.generate())


def main() -> None:
    reports = build()
    with LABELLED_SET.open("w", encoding="utf-8") as out:
        for report in reports:
            out.write(json.dumps(report, ensure_ascii=False) + "\n")
    print(f"wrote {len(reports)} reports to {LABELLED_SET}")


if __name__ == "__main__":
    main()
