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

Energy per inference (the target pays for MACs of every cell of the tiles it reads)
--------------------------------------------------------------------------------------
For sample ``s``, row block ``r`` has ``A_{s,r}`` nonzero inputs (the record's spike pattern:
a unit that spiked at least once is a nonzero activation). A used tile ``(r, c)`` is read
unless ``skips_idle_tiles`` and ``A_{s,r} = 0``. Over the tiles read:

.. math::

   E_\mathrm{dyn} = \overline{\sum_{(r,c)\ \mathrm{read}} \Big[ A_{s,r}\, d\, E_\mathrm{row}
        + k_c\, q\, E_\mathrm{ADC} + \rho\, E_\mathrm{array} + E_\mathrm{periph} \Big]}
     + \Big(\sum_l n_{\mathrm{in},l} + n_{\mathrm{out},L}\Big)\, b_a\, E_\mathrm{byte}

``d`` = row drives per nonzero input (bit-serial DAC pulses), ``k_c`` = physical columns of
the tile's weights (``weight columns x cells_per_weight``), ``q`` = ADC conversions per
column per MVM, ``rho`` = read cycles per MVM, the bar the mean over samples; the last term
moves every layer's input vector (``b_a`` bytes per activation) through buffers and the
on-chip network (``E_byte`` per byte written, read and routed) and the final outputs out. Activity
sparsity saves row drives always, and whole tile reads (ADC + periphery, the large terms)
where a row block falls silent and the profile skips idle tiles.

Latency and static energy
-------------------------
Tiles of a layer work in parallel; ``m`` columns share one ADC, so their conversions are
serialised:

.. math::

   t_l = \rho\, t_\mathrm{read} + q\, m\, t_\mathrm{ADC},\qquad
   t = \sum_l t_l,\qquad E_\mathrm{stat} = P_\mathrm{tile}\,\mathrm{tiles}\;t

Latency mode: layers one after the other, static (peripheral, idle) power of the tiles the
network occupies for the whole latency. Throughput mode: pipelined layer by layer, one
inference per ``max_l t_l``, so ``E_stat = P_tile tiles max_l t_l``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from neurosim.hardware.profile import Profile
from neurosim.hardware.result import KindCost, ModeCost
from neurosim.hardware.uncertainty import Draws, typical_draws
from neurosim.hardware.workload import Workload, WorkloadLayer


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


def _dynamic(plans: list[TilePlan], workload: Workload, profile: Profile, p: Draws) -> dict[str, np.ndarray]:
    reads = sum(pl.tile_reads for pl in plans)
    moved = (sum(l.n_in for l in workload.layers) + (workload.layers[-1].n_out if workload.layers else 0)) \
        * profile.get("bytes_per_activation")
    return {
        "row_drivers_dac": sum(pl.row_inputs for pl in plans) * p["row_drives_per_active_input"]
        * p["energy_per_row_drive_j"],
        "adc": sum(pl.phys_cols for pl in plans) * p["conversions_per_column_per_mvm"]
        * p["energy_per_adc_conversion_j"],
        "array_read": reads * p["read_cycles_per_mvm"] * p.get("energy_array_read_per_tile_j"),
        "periphery": reads * p["energy_periphery_per_tile_mvm_j"],
        "activation_movement": moved * p["energy_per_activation_byte_j"],
    }


def cost(workload: Workload, profile: Profile, p: Draws, batch_size: int = 1, deployment: str = "bare") -> KindCost:
    """Energy and latency per inference of the ANN of ``workload`` on crossbar ``profile`` (both modes)."""
    plans = [plan_layer(layer, profile) for layer in workload.layers]
    tiles_used = sum(pl.tiles_used for pl in plans)
    tiles_dense = sum(pl.tiles_dense for pl in plans)
    chips = max(math.ceil(tiles_used / profile.get("tiles_per_chip")), 1)
    t_layer = p["read_cycles_per_mvm"] * p["array_read_time_s"] + \
        p["conversions_per_column_per_mvm"] * profile.get("cols_per_adc") * p["adc_conversion_time_s"]
    n_layers = max(len(plans), 1)
    latency = t_layer * n_layers
    dyn = _dynamic(plans, workload, profile, p)
    p_static = p["static_power_per_tile_w"] * tiles_used
    res = {"tiles": int(tiles_used), "tiles_if_dense": int(tiles_dense), "chips": int(chips),
           "tiles_per_layer": {pl.name: pl.tiles_used for pl in plans}}
    lat = ModeCost(latency_s=latency, inferences_per_s=1.0 / latency, dynamic=dict(dyn),
                   static={"static_tiles": p_static * latency}, resources=dict(res, pipelined=False),
                   beside={"static_whole_chips_j": p["static_power_per_tile_w"] * chips
                           * profile.get("tiles_per_chip") * latency},
                   notes=["one inference alone: layers in sequence, static power of the occupied tiles for its latency"])
    thr = ModeCost(latency_s=latency, inferences_per_s=1.0 / t_layer, dynamic=dict(dyn),
                   static={"static_tiles": p_static * t_layer}, resources=dict(res, pipelined=True),
                   notes=[f"pipelined layer by layer: one inference per layer time, {n_layers} in flight"])

    def typical_dynamic(layers: list[WorkloadLayer]) -> float:
        alt = [plan_layer(l, profile) for l in layers]
        return float(sum(np.median(v) for v in _dynamic(alt, workload, profile, typical_draws(profile)).values()))

    dense_w = [replace(l, mask=None, nnz=l.dense) for l in workload.layers]
    all_active = [replace(l, in_active=None) for l in workload.layers]
    extra = {
        "sparsity": {
            "tiles_used": tiles_used,
            "tiles_if_weights_dense": tiles_dense,
            "nonzero_weight_fraction": workload.total_nnz / max(workload.total_dense, 1),
            "dynamic_energy_typical_j": typical_dynamic(workload.layers),
            "dynamic_energy_if_weights_dense_j": typical_dynamic(dense_w),
            "dynamic_energy_if_all_inputs_nonzero_j": typical_dynamic(all_active),
        },
        "useful_macs": float(sum(l.work(True, True) for l in workload.layers)),
    }
    assumptions = [
        "the crossbar runs the ANN once per inference; activations are the record's spike pattern "
        "(a unit that spiked at least once = nonzero input)",
        f"tiles of {int(profile.get('rows_per_tile'))} rows x "
        f"{int(profile.get('cols_per_tile')) // int(profile.get('cells_per_weight'))} weight columns; "
        "a tile with no nonzero weight is dropped, any other tile is read in full (zero weights inside it save nothing)",
        "nonzero inputs drive rows; ADCs convert every mapped column of a tile read",
        ("a tile whose inputs are all zero for a sample is skipped" if profile.flag("skips_idle_tiles")
         else "every used tile is read for every sample, even when its inputs are all zero"),
        "tiles of a layer work in parallel; columns sharing an ADC are converted one after another",
        "every layer's input vector is moved through buffers and the on-chip network, dense (zeros included)",
    ]
    return KindCost(modes={"latency": lat, "throughput": thr}, work_label="MACs",
                    work_per_inference=float(sum(pl.array_macs for pl in plans)), assumptions=assumptions,
                    extra=extra)
