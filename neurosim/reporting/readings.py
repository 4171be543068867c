"""Plain-language readings of the hardware estimates: what each kind of sparsity saves, per target.

A reading is built from the numbers only: the dense -> sparse savings of total and dynamic
energy per Monte-Carlo draw (median and 10-90 % interval, in both modes), the static share
of the energy, and what shrinks the work on that kind of target: spikes x fan-out
(neuromorphic, from the activity records), executed MACs (wafer-scale, GPU/CPU), tiles and
active rows (crossbars). The target's kind is the estimate's ``kind`` field (the profile's
declared kind).
"""
from __future__ import annotations

from typing import Any, Mapping


def _ratio(d: dict[str, float] | None) -> str:
    if not d:
        return "?"
    if abs(d["p90"] - d["p10"]) <= 0.005 * d["median"]:
        return f"{d['median']:.3g}x"
    return f"{d['median']:.3g}x (10-90 %: {d['p10']:.3g}-{d['p90']:.3g}x)"


def _saving_phrase(d: dict[str, float] | None, what: str) -> str:
    if not d:
        return ""
    m = d["median"]
    if d["p10"] >= 1.05:
        return f"{what} falls {_ratio(d)}"
    if d["p90"] <= 1 / 1.05:
        inv = {"median": 1 / m, "p10": 1 / d["p90"], "p90": 1 / d["p10"]}
        return f"{what} RISES {_ratio(inv)}"
    return f"{what} barely changes ({_ratio(d)})"


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
        ``profile``, ``kind``, ``coding``, ``savings`` (per mode: dense / sparse total,
        dynamic and static energy and latency, each ``{median, p10, p90}``),
        ``static_share`` (per mode, sparse model, median), ``reading``.
    """
    records = records or {}
    out = []
    for profile in dict.fromkeys(r["profile"] for r in rows):
        d = next((r for r in rows if r["profile"] == profile and r["model"] == "dense"), None)
        s = next((r for r in rows if r["profile"] == profile and r["model"] == "sparse"), None)
        if d is None or s is None or not s.get("savings"):
            continue
        kind = str(s["kind"])
        sv = s["savings"]
        share = {}
        for mode in ("latency", "throughput"):
            m = s["modes"][mode]
            tot = m["energy_total_j"]["median"]
            share[mode] = m["energy_static_j"]["median"] / tot if tot > 0 else 0.0
        parts = []
        for mode, label in (("latency", "One inference alone"), ("throughput", "With the hardware kept busy")):
            phrase = _saving_phrase(sv[mode]["energy_total"], "energy per inference")
            dyn = _saving_phrase(sv[mode]["energy_dynamic"], "its dynamic part")
            parts.append(f"{label}, {phrase} for the sparse model; {dyn}; static power is "
                         f"{100 * share[mode]:.0f} % of the sparse model's energy.")
        if share["latency"] > 0.5:
            lat = sv["latency"]["latency"]["median"]
            parts.append("Alone, the fixed (static) cost dominates, so sparsity pays "
                         + ("mainly through the shorter latency." if lat >= 1.05 else
                            "only in the dynamic part, which is small here."))
        parts.append(_kind_reading(kind, s, d, records))
        dom = (s.get("dominant_uncertainty") or {}).get("figure")
        if dom:
            parts.append(f"The widest uncertainty comes from {dom}.")
        out.append({"profile": profile, "kind": kind, "coding": s.get("coding") if s.get("runs") == "snn" else None,
                    "savings": sv, "static_share": share, "reading": " ".join(p for p in parts if p)})
    return out


def _kind_reading(kind: str, s: dict, d: dict, records: Mapping[tuple[str, str], Any]) -> str:
    if kind == "neuromorphic":
        coding = s.get("coding") or "graded"
        dr, sr = records.get(("dense", coding)), records.get(("sparse", coding))
        if dr is not None and sr is not None and dr.total_spikes and sr.total_spikes:
            spike_ratio = dr.total_spikes / sr.total_spikes
            fan_ratio = (dr.synaptic_ops / dr.total_spikes) / max(sr.synaptic_ops / sr.total_spikes, 1e-12)
            return (f"Work here is synaptic operations: activity sparsity sends {spike_ratio:.3g}x fewer spikes and "
                    f"weight sparsity leaves each spike {fan_ratio:.3g}x fewer synapses to update, so synaptic "
                    f"operations fall {spike_ratio * fan_ratio:.3g}x (the two multiply).")
        return "Work here is synaptic operations (spikes x surviving synapses), so both kinds of sparsity multiply."
    if kind == "wafer_scale":
        if d.get("ops") and s.get("ops"):
            return (f"The dataflow engine executes {d['ops'] / s['ops']:.3g}x fewer MACs for the sparse model: it "
                    "skips zero weights (static sparsity), and silent units where the profile says it can.")
        return "The dataflow engine skips work on zero weights (static sparsity pays)."
    if kind == "crossbar":
        sp = (s.get("extra") or {}).get("sparsity") or {}
        typical = sp.get("dynamic_energy_typical_j")
        if typical and sp.get("dynamic_energy_if_weights_dense_j") and sp.get("dynamic_energy_if_all_inputs_nonzero_j"):
            w_gain = sp["dynamic_energy_if_weights_dense_j"] / typical
            a_gain = sp["dynamic_energy_if_all_inputs_nonzero_j"] / typical
            tiles = (f" (pruning empties {sp['tiles_if_weights_dense'] - sp['tiles_used']} of "
                     f"{sp['tiles_if_weights_dense']} tiles)" if "tiles_used" in sp and "tiles_if_weights_dense" in sp
                     else "")
            return (f"On a crossbar a pruned weight still occupies its cell: weight sparsity saves {w_gain:.3g}x of "
                    f"the dynamic energy{tiles}, while silent inputs, which skip their row drivers, save {a_gain:.3g}x.")
        return ("On a crossbar a pruned weight still occupies its cell: unstructured weight sparsity saves only the "
                "tiles it empties entirely, while silent inputs skip row drivers and ADC work (activity sparsity pays).")
    if kind in ("gpu", "cpu"):
        return (f"The {kind.upper()} multiplies zeros like any other number: the dense kernels cost the same for both "
                "models (MACs of the dense network), so neither kind of sparsity pays.")
    return ""


__all__ = ["hardware_readings"]
