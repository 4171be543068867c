"""Print the validation table of docs/hardware.md: every published measurement the cost models
are checked against (neurosim.hardware.validation), the estimate's median and 10-90 % interval,
their ratio and the verdict.

    python experiments/validation_table.py [--draws 4000] [--seed 0]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from neurosim.hardware.validation import CASES, MAX_RATIO, MAX_WIDTH, evaluate, evaluate_latency
from neurosim.reporting.units import format_si

UNITS = {"inference": "J", "synaptic_op": "J", "op": "J"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--draws", type=int, default=4000, help="Monte-Carlo draws per case (default: 4000)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the draws (default: 0)")
    ap.add_argument("--summary", default=None, help="write counts here, for experiments/targets.py "
                                                    "energy_validation (default: none)")
    args = ap.parse_args()
    print("| case | kind | profile | mode | compared | measured | estimate: median [10-90 %] | estimate / "
          "measured | interval width | verdict |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    counted = within = 0
    kinds = set()
    for case in CASES:
        r = (evaluate_latency(case, args.draws, args.seed) if case.quantity == "latency"
             else evaluate(case, args.draws, args.seed))
        unit = "s" if case.quantity == "latency" else "J"
        per = {"inference": "per inference", "synaptic_op": "per synaptic event", "op": "per op"}[case.per]
        verdict = ("consistency check (not counted)" if not case.independent
                   else "within" if r["within"] else "MISS")
        if case.independent:
            counted += 1
            kinds.add(case.kind)
            within += bool(r["within"])
        print(f"| `{case.key}` | {case.kind} | {r['profile']} | {case.mode} | {case.quantity} {per} | "
              f"{format_si(case.measured, unit)} | {format_si(r['median'], unit)} [{format_si(r['p10'], unit)} - "
              f"{format_si(r['p90'], unit)}] | {r['ratio']:.2f} | {r['width']:.2f}x | {verdict} |")
    print(f"\n{within} of {counted} independent cases within {MAX_RATIO:g}x with intervals under {MAX_WIDTH:g}x.")
    if args.summary:
        Path(args.summary).write_text(json.dumps({"independent_cases": counted, "cases_within": within,
                                                  "kinds": len(kinds),
                                                  "acceptance": {"ratio": MAX_RATIO, "interval_width": MAX_WIDTH}},
                                                 indent=2))


if __name__ == "__main__":
    main()
