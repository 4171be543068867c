r"""Cost model of analog in-memory-computing crossbars (RRAM, PCM) running the ANN.

Mapping
-------
A layer with ``n_in`` inputs and ``n_out`` outputs is cut into tiles of ``R`` rows
(``rows_per_tile``) and ``K = cols_per_tile // cells_per_weight`` weight columns:

.. math:: \mathrm{tiles}_l = \left\lceil \frac{n_\mathrm{in}}{R} \right\rceil
                             \left\lceil \frac{n_\mathrm{out}}{K} \right\rceil

A tile that pruning leaves without a single nonzero weight is dropped (neither programmed
nor read). Any other tile is read in full: a zero weight inside a used tile is a device at
low conductance that still sits on a driven row and a converted column, so *unstructured
weight sparsity saves nothing until a whole tile empties*.

Energy per inference
--------------------
For sample ``s``, row block ``r`` has ``A_{s,r}`` nonzero inputs (the record's spike pattern:
a unit that spiked at least once is a nonzero activation). A used tile ``(r, c)`` is read
unless ``skips_idle_tiles`` and ``A_{s,r} = 0``. Over the tiles read:

.. math::

   E = \overline{\sum_{(r,c)\ \mathrm{read}} \Big[ A_{s,r}\, d\, E_\mathrm{row}
        + k_c\, q\, E_\mathrm{ADC} + \rho\, E_\mathrm{array} + E_\mathrm{periph} \Big]}
     + P_\mathrm{tile}\, \mathrm{tiles}\, t_\mathrm{inf}

``d`` = row drives per nonzero input (bit-serial DAC pulses), ``k_c`` = physical columns of
the tile's weights (``weight columns x cells_per_weight``), ``q`` = ADC conversions per
column per MVM, ``rho`` = read cycles per MVM, the bar the mean over samples. Activity
sparsity saves row drives always, and whole tile reads (ADC + periphery, the large terms)
where a row block falls silent and the profile skips idle tiles.

Latency per inference
---------------------
Tiles of a layer work in parallel; layers run one after the other; ``m`` columns share one
ADC, so their conversions are serialised:

.. math:: t_l = \rho\, t_\mathrm{read} + q\, m\, t_\mathrm{ADC},\qquad t_\mathrm{inf} = \sum_l t_l
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from neurosim.hardware.profile import Profile
from neurosim.hardware.workload import SCENARIOS, CostResult, Workload, WorkloadLayer, collect


@dataclass
class TilePlan:
    """Scenario-independent counts of one layer on the crossbar (per inference means)."""

    name: str
    tiles_dense: int
    tiles_used: int
    tile_reads: float      # tile MVMs executed per inference
    row_inputs: float      # sum over reads of nonzero inputs of the tile's row block
    phys_cols: float       # sum over reads of physical columns converted
    array_macs: float      # MACs the arrays physically perform (all cells of read tiles)


def plan_layer(layer: WorkloadLayer, profile: Profile) -> TilePlan:
    R = int(profile.get("rows_per_tile"))
    cells = int(profile.get("cells_per_weight"))
    K = int(profile.get("cols_per_tile")) // cells
    rb, cb = math.ceil(layer.n_in / R), math.ceil(layer.n_out / K)
    row_sizes = np.array([min(R, layer.n_in - r * R) for r in range(rb)], dtype=np.float64)
    col_sizes = np.array([min(K, layer.n_out - c * K) for c in range(cb)], dtype=np.float64)
    if layer.mask is None:
        occ = np.full((rb, cb), layer.nnz > 0)
    else:
        padded = np.zeros((cb * K, rb * R), dtype=bool)
        padded[:layer.n_out, :layer.n_in] = layer.mask
        occ = padded.reshape(cb, K, rb, R).any(axis=(1, 3)).T
    if layer.in_active is None:
        active = row_sizes[None, :]
    else:
        n = layer.in_active.shape[0]
        pa = np.zeros((n, rb * R), dtype=np.float64)
        pa[:, :layer.n_in] = layer.in_active
        active = pa.reshape(n, rb, R).sum(axis=2)
    if active.shape[0] == 0:
        return TilePlan(layer.name, rb * cb, int(occ.sum()), 0.0, 0.0, 0.0, 0.0)
    read = np.broadcast_to(occ[None, :, :], (active.shape[0], rb, cb)).astype(np.float64)
    if profile.flag("skips_idle_tiles"):
        read = read * (active > 0)[:, :, None]
    tile_reads = read.sum(axis=(1, 2)).mean()
    row_inputs = (read * active[:, :, None]).sum(axis=(1, 2)).mean()
    phys_cols = (read * (col_sizes * cells)[None, None, :]).sum(axis=(1, 2)).mean()
    array_macs = (read * (row_sizes[:, None] * col_sizes[None, :])[None]).sum(axis=(1, 2)).mean()
    return TilePlan(layer.name, rb * cb, int(occ.sum()), float(tile_reads), float(row_inputs),
                    float(phys_cols), float(array_macs))


def _scenarios(plans: list[TilePlan], profile: Profile) -> dict[str, tuple[dict[str, float], float]]:
    tiles_used = sum(p.tiles_used for p in plans)
    out = {}
    for sc in SCENARIOS:
        g = lambda key: profile.get(key, sc, 0.0)  # noqa: E731
        t_layer = g("read_cycles_per_mvm") * g("array_read_time_s") + \
            g("conversions_per_column_per_mvm") * profile.get("cols_per_adc") * g("adc_conversion_time_s")
        latency = t_layer * len(plans)
        reads = sum(p.tile_reads for p in plans)
        comps = {
            "row_drivers_dac": sum(p.row_inputs for p in plans) * g("row_drives_per_active_input")
            * g("energy_per_row_drive_j"),
            "adc": sum(p.phys_cols for p in plans) * g("conversions_per_column_per_mvm")
            * g("energy_per_adc_conversion_j"),
            "array_read": reads * g("read_cycles_per_mvm") * g("energy_array_read_per_tile_j"),
            "periphery": reads * g("energy_periphery_per_tile_mvm_j"),
            "static": g("static_power_per_tile_w") * tiles_used * latency,
        }
        out[sc] = (comps, latency)
    return out


def cost(workload: Workload, profile: Profile) -> CostResult:
    """Energy and latency per inference of the ANN of ``workload`` on crossbar ``profile``."""
    plans = [plan_layer(layer, profile) for layer in workload.layers]
    energy, latency, breakdown = collect(_scenarios(plans, profile))
    tiles_used = sum(p.tiles_used for p in plans)
    tiles_dense = sum(p.tiles_dense for p in plans)
    chips = max(math.ceil(tiles_used / profile.get("tiles_per_chip")), 1)

    def typical_energy(layers: list[WorkloadLayer]) -> float:
        alt = [plan_layer(l, profile) for l in layers]
        return sum(sum(c.values()) for c in [_scenarios(alt, profile)["typical"][0]])

    dense_w = [replace(l, mask=None, nnz=l.dense) for l in workload.layers]
    all_active = [replace(l, in_active=None) for l in workload.layers]
    extra = {
        "sparsity": {
            "tiles_used": tiles_used,
            "tiles_if_weights_dense": tiles_dense,
            "nonzero_weight_fraction": workload.total_nnz / max(workload.total_dense, 1),
            "energy_typical_j": energy["typical"],
            "energy_if_weights_dense_j": typical_energy(dense_w),
            "energy_if_all_inputs_nonzero_j": typical_energy(all_active),
        },
        "useful_macs": float(sum(l.work(True, True) for l in workload.layers)),
    }
    resources = {"tiles": int(tiles_used), "tiles_if_dense": int(tiles_dense), "chips": int(chips),
                 "tiles_per_layer": {p.name: p.tiles_used for p in plans}}
    assumptions = [
        "the crossbar runs the ANN once per inference; activations are the record's spike pattern "
        "(a unit that spiked at least once = nonzero input)",
        f"tiles of {int(profile.get('rows_per_tile'))} rows x "
        f"{int(profile.get('cols_per_tile')) // int(profile.get('cells_per_weight'))} weight columns; "
        "a tile with no nonzero weight is dropped, any other tile is read in full (zero weights inside it save nothing)",
        "nonzero inputs drive rows; ADCs convert every mapped column of a tile read",
        ("a tile whose inputs are all zero for a sample is skipped" if profile.flag("skips_idle_tiles")
         else "every used tile is read for every sample, even when its inputs are all zero"),
        "tiles of a layer work in parallel, layers in sequence; columns sharing an ADC are converted one after another",
        "idle chip power is not charged unless the profile gives a static power per tile: per-MVM energies "
        "measured at full load include the chip's static power only as amortised over a busy chip",
    ]
    return CostResult(energy=energy, latency=latency, breakdown=breakdown, resources=resources,
                      assumptions=assumptions, macs=float(sum(p.array_macs for p in plans)), extra=extra)
