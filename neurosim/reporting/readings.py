"""Plain-language readings of the hardware estimates: what each kind of sparsity saves, per target.

A reading is built from the numbers only: the dense/sparse energy and latency ratios, the
share of static (time-proportional) energy in the breakdown, and what shrinks the work on
that kind of target: spikes x fan-out (neuromorphic, from the activity records), executed
MACs (wafer-scale, GPU), tiles and active rows (crossbars). The target's kind is the
estimate's ``kind`` field (the profile's declared kind).
"""
from __future__ import annotations

from typing import Any, Mapping

from neurosim.reporting.tables import as_range

STATIC_WORDS = ("static", "overhead", "idle", "leak", "baseline")


def hardware_readings(rows: list[dict[str, Any]], records: Mapping[tuple[str, str], Any] | None = None
                      ) -> list[dict[str, Any]]:
    """A short plain-language reading per profile.

    Parameters
    ----------
    rows : list of dict
        :func:`neurosim.reporting.tables.hardware_rows` (one per profile and model).
    records : mapping, optional
        ``(model, coding) -> ActivityRecord``; on neuromorphic targets the reading splits the
        fall in synaptic operations into fewer spikes x fewer synapses per spike,
        ``synops_d / synops_s = (spikes_d / spikes_s) * (fanout_d / fanout_s)``.

    Returns
    -------
    list of dict
        ``profile``, ``kind``, ``coding``, ``energy_ratio_dense_over_sparse``,
        ``latency_ratio_dense_over_sparse``, ``energy_ratio_by_scenario``, ``reading``.
    """
    records = records or {}
    out = []
    for profile in dict.fromkeys(r["profile"] for r in rows):
        d = next((r for r in rows if r["profile"] == profile and r["model"] == "dense"), None)
        s = next((r for r in rows if r["profile"] == profile and r["model"] == "sparse"), None)
        if d is None or s is None:
            continue
        ratio = d["energy"]["typical"] / max(s["energy"]["typical"], 1e-300)
        lat = d["latency"]["typical"] / max(s["latency"]["typical"], 1e-300)
        kind = str(s["kind"])
        parts = [f"Compared with the dense model, the sparse one {_energy_phrase(ratio)} and {_speed_phrase(lat)}."]
        static_d, dyn_d = _split_breakdown(d.get("breakdown"))
        static_s, dyn_s = _split_breakdown(s.get("breakdown"))
        if static_s is not None and dyn_s is not None and static_s + dyn_s > 0:
            share = static_s / (static_s + dyn_s)
            if share > 0.5:
                parts.append(f"{share * 100:.0f}% of its energy is static power or fixed overhead paid for the time "
                             "the inference takes, so "
                             + ("sparsity pays here mainly through the shorter latency" if lat >= 1.05 else
                                "at this network's size the fixed cost swamps what sparsity saves in work"))
                if dyn_s > 0 and dyn_d and dyn_d / dyn_s >= 1.05:
                    parts[-1] += f"; the activity-dependent part alone shrinks {dyn_d / dyn_s:.3g}x."
                else:
                    parts[-1] += "."
        parts.append(_kind_reading(kind, s, d, records))
        # the same per-event figures apply to both models, so compare like scenarios with like
        scen = [d["energy"][k] / s["energy"][k] for k in ("low", "high") if s["energy"][k] > 0]
        if scen and (max(scen) / min(scen) > 1.05 or abs(max(scen) - ratio) / ratio > 0.05):
            lo, hi = min(scen + [ratio]), max(scen + [ratio])
            parts.append(f"With the profile's low or its high figures for both models alike, the energy ratio spans "
                         f"{lo:.3g}x to {hi:.3g}x.")
        out.append({"profile": profile, "kind": kind, "coding": s.get("coding") if s.get("runs") == "snn" else None,
                    "energy_ratio_dense_over_sparse": ratio, "latency_ratio_dense_over_sparse": lat,
                    "energy_ratio_by_scenario": {k: d["energy"][k] / s["energy"][k] for k in ("low", "typical", "high")
                                                 if s["energy"][k] > 0},
                    "reading": " ".join(p for p in parts if p)})
    return out


def _split_breakdown(breakdown: Any) -> tuple[float | None, float | None]:
    if not isinstance(breakdown, dict) or not breakdown:
        return None, None
    static = dynamic = 0.0
    for name, value in breakdown.items():
        v = as_range(value)
        if v is None:
            continue
        if any(w in name.lower() for w in STATIC_WORDS):
            static += v["typical"]
        else:
            dynamic += v["typical"]
    return static, dynamic


def _energy_phrase(r: float) -> str:
    if r >= 1.05:
        return f"uses {r:.3g}x less energy"
    if r <= 1 / 1.05:
        return f"uses {1 / r:.3g}x MORE energy"
    return "uses about the same energy"


def _speed_phrase(r: float) -> str:
    if r >= 1.05:
        return f"is {r:.3g}x faster"
    if r <= 1 / 1.05:
        return f"is {1 / r:.3g}x slower"
    return "is about as fast"


def _kind_reading(kind: str, s: dict, d: dict, records: Mapping[tuple[str, str], Any]) -> str:
    if kind == "neuromorphic":
        coding = s.get("coding") or "graded"
        dr, sr = records.get(("dense", coding)), records.get(("sparse", coding))
        if dr is not None and sr is not None and dr.total_spikes and sr.total_spikes:
            spike_ratio = dr.total_spikes / sr.total_spikes
            fan_ratio = (dr.synaptic_ops / dr.total_spikes) / max(sr.synaptic_ops / sr.total_spikes, 1e-12)
            return (f"Work here is events: activity sparsity sends {spike_ratio:.3g}x fewer spikes and weight "
                    f"sparsity leaves each spike {fan_ratio:.3g}x fewer synapses to update, so synaptic operations "
                    f"fall {spike_ratio * fan_ratio:.3g}x (the two multiply).")
        return "Work here is events (spikes x surviving synapses), so both kinds of sparsity multiply."
    if kind == "wafer_scale":
        if d.get("ops") and s.get("ops"):
            return (f"The dataflow engine executes {d['ops'] / s['ops']:.3g}x fewer MACs for the sparse model: it "
                    "skips zero weights (static sparsity), and silent units where the profile says it can.")
        return "The dataflow engine skips work on zero weights (static sparsity pays)."
    if kind == "crossbar":
        sp = (s.get("extra") or {}).get("sparsity") or {}
        typical = sp.get("energy_typical_j")
        if typical and sp.get("energy_if_weights_dense_j") and sp.get("energy_if_all_inputs_nonzero_j"):
            w_gain = sp["energy_if_weights_dense_j"] / typical
            a_gain = sp["energy_if_all_inputs_nonzero_j"] / typical
            tiles = (f" (pruning empties {sp['tiles_if_weights_dense'] - sp['tiles_used']} of "
                     f"{sp['tiles_if_weights_dense']} tiles)" if "tiles_used" in sp and "tiles_if_weights_dense" in sp
                     else "")
            return (f"On a crossbar a pruned weight still occupies its cell: weight sparsity saves {w_gain:.3g}x"
                    f"{tiles}, while silent inputs, which skip their row drivers, save {a_gain:.3g}x.")
        return ("On a crossbar a pruned weight still occupies its cell: unstructured weight sparsity saves only the "
                "tiles it empties entirely, while silent inputs skip row drivers and ADC work (activity sparsity pays).")
    if kind == "gpu":
        return ("The GPU multiplies zeros like any other number: the dense kernel costs the same for both models, "
                "so neither kind of sparsity pays.")
    return ""


__all__ = ["hardware_readings", "STATIC_WORDS"]
