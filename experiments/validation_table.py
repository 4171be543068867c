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
    print_power_and_time(args.draws, args.seed)
    if args.summary:
        Path(args.summary).write_text(json.dumps({"independent_cases": counted, "cases_within": within,
                                                  "kinds": len(kinds),
                                                  "acceptance": {"ratio": MAX_RATIO, "interval_width": MAX_WIDTH}},
                                                 indent=2))


#: (dynamic power W, seconds per call) measured in the cases that state both: the host-driven ones (Blouw et al.
#: 2019, Table 1 and logs) and the PilotNet LIF benchmark on Loihi 2 (lava-dl, 408.91 inferences/s)
MEASURED_SPLIT = {"loihi_kws_blouw2019": (0.081, 1 / 296), "cpu_kws_blouw2019": (11.47, 1 / 1813.63),
                  "gpu_kws_blouw2019": (22.86, 1 / 770.39), "jetson_kws_blouw2019": (2.34, 1 / 419),
                  "gpu_kws_batch64_blouw2019": (26.28, 64 / 36150), "cpu_kws_batch64_blouw2019": (13.31, 64 / 38210),
                  "jetson_kws_batch64_blouw2019": (1.73, 64 / 16976),
                  "loihi2_pilotnet_lif_lavadl2023": (0.447156, 1 / 408.91)}


def print_power_and_time(draws: int, seed: int) -> None:
    """Dynamic power and time per call (per inference at batch 1), estimate vs measurement, for the cases
    whose source states both (a diagnostic: energy = power x time, which of the two is off)."""
    import numpy as np

    from neurosim.hardware import estimate, load_profile

    print("\n| case | dynamic power: estimate [10-90 %] vs measured | time per call: estimate vs measured |")
    print("|---|---|---|")
    for case in CASES:
        if case.key not in MEASURED_SPLIT:
            continue
        prof = case.profile() if callable(case.profile) else load_profile(case.profile)
        s = estimate(case.workload(), prof, draws=draws, seed=seed, batch_size=case.batch_size,
                     deployment=case.deployment).modes[case.mode].samples
        power = s["dynamic"] * case.batch_size / s["latency"]
        p10, med, p90 = np.percentile(power, [10, 50, 90])
        t = float(np.median(s["latency"]))
        pw, tc = MEASURED_SPLIT[case.key]
        print(f"| `{case.key}` | {format_si(med, 'W')} [{format_si(p10, 'W')} - {format_si(p90, 'W')}] vs "
              f"{format_si(pw, 'W')} ({med / pw:.2f}x) | {format_si(t, 's')} vs {format_si(tc, 's')} ({t / tc:.2f}x) |")


if __name__ == "__main__":
    main()
