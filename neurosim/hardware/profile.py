"""Hardware profiles: declarative TOML files, loaded and validated into frozen dataclasses.

A profile is data, not code (see ``hardware_profiles/``). Each file names its target
``kind`` (one cost model per kind, :mod:`neurosim.hardware`) and lists *figures*: a capacity,
a per-event energy, a time, a power or a yes/no property of the hardware. Every figure
carries its unit, its source (authors, year, venue, table or section) and a confidence
label; an uncertain figure states its distribution::

    name = "loihi"
    kind = "neuromorphic"
    title = "Intel Loihi (gen 1)"
    description = "..."

    [figures.energy_per_synop_j]          # uncertain: an independent random variable
    low = 23.6
    typical = 35.5
    high = 39.7
    unit = "pJ"
    distribution = "triangular"
    confidence = "V1"
    source = "Davies et al. 2018, IEEE Micro 38(1):82-99, Table 2 ..."

    [figures.neurons_per_core]            # a single value
    value = 1024
    unit = "neurons"
    confidence = "V1"
    source = "Davies et al. 2018 ..."

Distributions (what ``low`` and ``high`` mean):

* ``uniform``: bounds; every value in ``[low, high]`` equally likely;
* ``triangular``: bounds, mode ``typical``;
* ``loguniform``: bounds, uniform in ``log x`` (for a figure known to a factor);
* ``lognormal``: ``low`` and ``high`` are the 10th and 90th percentiles, ``typical`` the
  median (a two-piece lognormal: ``sigma = ln(typical/low)/1.2816`` below the median,
  ``ln(high/typical)/1.2816`` above), for a figure whose extremes are not hard bounds.

Units are converted to SI on load (``pJ`` -> J, ``us`` -> s, ``mW`` -> W, ``TB/s`` -> B/s);
the unit must be one the figure's quantity allows.

Rules enforced on load (each violation is a one-line :class:`~neurosim.errors.ProfileError`
naming the file, the figure and the problem): unknown top-level or figure key, unknown
figure, missing required figure, figure without ``source`` or ``confidence``, a unit the
figure's quantity does not allow, an unknown distribution, ``low <= typical <= high``
violated, a negative, zero (where a positive figure is needed), non-finite or absurd value
(outside the quantity's plausible magnitudes), a value of the wrong type or a nested table.

Confidence labels: ``V1`` primary text (paper, datasheet, vendor document) read,
``V2`` primary figure quoted verbatim elsewhere, ``V3`` single secondary source, ``U``
remembered and unverified, ``derived`` computed from other figures (``derivation`` says
how), ``proxy`` borrowed from a related chip, ``assumption`` a modelling choice with no
published figure (``estimate`` is accepted as its synonym).

:func:`check` reports what of a network does not fit a profile (fan-in, neurons per core,
synaptic memory, precision, graded spikes, on-chip memory) before any estimate.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from neurosim.errors import ProfileError

KINDS = ("neuromorphic", "wafer_scale", "crossbar", "gpu", "cpu")
CONFIDENCE = ("V1", "V2", "V3", "U", "derived", "proxy", "assumption", "estimate")
DISTRIBUTIONS = ("uniform", "triangular", "loguniform", "lognormal")
TOP_LEVEL_KEYS = {"name", "kind", "title", "description", "notes", "figures"}
FIGURE_KEYS = {"value", "low", "typical", "high", "distribution", "source", "confidence", "derivation", "unit",
               "note"}


@dataclass(frozen=True)
class Quantity:
    """A physical quantity: SI unit, accepted units with their factor to SI, plausible magnitudes."""

    si: str
    units: Mapping[str, float]
    lo: float
    hi: float


def _q(si: str, units: dict[str, float], lo: float, hi: float) -> Quantity:
    return Quantity(si, MappingProxyType(units), lo, hi)


_J = {"J": 1.0, "mJ": 1e-3, "uJ": 1e-6, "µJ": 1e-6, "nJ": 1e-9, "pJ": 1e-12, "fJ": 1e-15}
_S = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9, "ps": 1e-12}
_W = {"W": 1.0, "kW": 1e3, "mW": 1e-3, "uW": 1e-6, "µW": 1e-6}

#: quantity name -> units and plausible magnitudes (SI). Zero is allowed only where the
#: figure spec says so; the magnitude bounds apply to nonzero values.
QUANTITIES: dict[str, Quantity] = {
    "energy_event": _q("J", _J, 1e-16, 1e-4),
    "power": _q("W", _W, 1e-6, 1e6),
    "time_event": _q("s", _S, 1e-13, 1.0),
    "bytes": _q("B", {"B": 1.0, "kB": 1e3, "KiB": 1024.0, "MB": 1e6, "MiB": 2.0 ** 20, "GB": 1e9, "GiB": 2.0 ** 30,
                      "TB": 1e12}, 1.0, 1e15),
    "flops": _q("FLOP/s", {"FLOP/s": 1.0, "GFLOP/s": 1e9, "TFLOP/s": 1e12, "PFLOP/s": 1e15}, 1e6, 1e19),
    "bandwidth": _q("B/s", {"B/s": 1.0, "GB/s": 1e9, "TB/s": 1e12, "PB/s": 1e15}, 1e6, 1e17),
    "fraction": _q("1", {"1": 1.0, "%": 0.01}, 1e-6, 1.0),
    "factor": _q("1", {"1": 1.0}, 1e-3, 1e3),
}


@dataclass(frozen=True)
class FigureSpec:
    """Schema entry of one figure.

    ``type``: 'num' (a value or an uncertain range), 'int' (a count, single value) or
    'bool'. ``quantity``: a key of :data:`QUANTITIES` for 'num' figures, else the count's
    unit word (``neurons``). ``zero_ok``: zero is a meaningful value (no real-time floor).
    """

    type: str
    required: bool
    quantity: str
    doc: str
    zero_ok: bool = False

    @property
    def unit(self) -> str:
        return QUANTITIES[self.quantity].si if self.quantity in QUANTITIES else self.quantity


def _n(quantity: str, doc: str, required: bool = True, zero_ok: bool = False) -> FigureSpec:
    return FigureSpec("num", required, quantity, doc, zero_ok)


def _i(unit: str, doc: str, required: bool = True) -> FigureSpec:
    return FigureSpec("int", required, unit, doc)


def _b(doc: str, required: bool = True) -> FigureSpec:
    return FigureSpec("bool", required, "", doc)


_PROCESSOR = {
    "peak_flops": _n("flops", "peak dense throughput at the precision used"),
    "memory_bandwidth_bytes_per_s": _n("bandwidth", "main (device) memory bandwidth"),
    "memory_bytes": _i("B", "device memory, bytes", required=False),
    "kernel_launch_s": _n("time_event", "launch + framework dispatch time of one kernel (operator) at batch 1"),
    "kernels_per_layer": _n("factor", "kernels (operators) dispatched per dense layer"),
    "host_transfer_s": _n("time_event", "host<->device copies per call", required=False, zero_ok=True),
    "host_call_s": _n("time_event", "host-driven deployment: framework time per call (Python, graph executor, "
                                    "feeds and fetches) added to every batch", required=False),
    "host_call_load": _n("fraction", "host-driven deployment: fraction of (max - idle) power the device draws "
                                     "while the framework's host code runs (CPU: the cores running it)",
                         required=False),
    "bytes_per_weight": _i("B", "bytes per weight"),
    "bytes_per_activation": _i("B", "bytes per activation"),
    "idle_power_w": _n("power", "power of the device idle (powered, clocks gated, nothing running)"),
    "max_power_w": _n("power", "power at full load (TDP / board power limit)"),
    "launch_bound_load": _n("fraction", "fraction of (max - idle) power drawn while the device serves a "
                                        "dispatch-bound stream of tiny kernels"),
}

#: kind -> figure key -> spec. A key not listed for the profile's kind is refused.
SCHEMA: dict[str, dict[str, FigureSpec]] = {
    "neuromorphic": {
        "neurons_per_core": _i("neurons", "neurons (compartments) one core can hold"),
        "cores_per_chip": _i("cores", "neuro-cores (processing elements) per chip usable for neurons"),
        "chips_per_board": _i("chips", "chips per board, when the board is the unit of deployment", required=False),
        "boards_per_frame": _i("boards", "boards one frame (rack shelf with its fans, power supplies and switches) "
                                         "holds, when a deployment of several boards is rack-mounted",
                               required=False),
        "weight_bits": _i("bit", "largest synaptic weight precision"),
        "synapses_per_core": _i("synapses", "synaptic memory of one core, in synapses", required=False),
        "input_axons_per_core": _i("axons", "distinct presynaptic sources one core can receive from",
                                   required=False),
        "max_fan_in": _i("synapses", "largest fan-in of one neuron", required=False),
        "graded_spikes": _b("spikes can carry an integer payload (graded spikes)"),
        "real_time": _b("runs in biological real time: a timestep lasts the network's dt (at least)", required=False),
        "energy_per_synop_j": _n("energy_event", "energy of one synaptic operation (weight fetch + accumulate)"),
        "energy_per_neuron_update_j": _n("energy_event", "energy of one neuron update (when active/inactive "
                                                         "not split)", required=False),
        "energy_per_active_update_j": _n("energy_event", "energy of a neuron update with input or a spike",
                                         required=False),
        "energy_per_inactive_update_j": _n("energy_event", "energy of a leak-only neuron update", required=False),
        "energy_per_spike_j": _n("energy_event", "energy of emitting and routing one spike message"),
        "static_power_per_chip_w": _n("power", "static (leakage + idle clocking) power of one chip, all cores"),
        "board_overhead_power_w": _n("power", "power of a board beside its chips (FPGAs, regulators, links)",
                                     required=False),
        "frame_overhead_power_w": _n("power", "power of one frame beside its boards (fans, power supplies, "
                                              "switches), charged when a deployment spans more than one board",
                                     required=False),
        "management_power_per_chip_w": _n("power", "power of a chip's embedded management cores while a run "
                                                    "is in progress (host I/O, spike injection)", required=False),
        "time_per_synop_s": _n("time_event", "time one core needs per synaptic operation"),
        "time_per_neuron_update_s": _n("time_event", "time one core needs per neuron update", required=False),
        "time_per_spike_s": _n("time_event", "time to emit/route one spike from a core", required=False),
        "time_per_received_spike_s": _n("time_event", "fixed time a core spends on each spike it receives "
                                                       "(interrupt, lookup, fetch of the synaptic row)",
                                        required=False),
        "host_sync_per_step_s": _n("time_event", "host-driven deployment: host synchronisation and I/O added "
                                                  "to every timestep", required=False),
        "sync_time_per_step_s": _n("time_event", "end-of-timestep barrier synchronisation", required=False),
        "timestep_floor_s": _n("time_event", "shortest wall-clock timestep (real-time step or host I/O)",
                               required=False, zero_ok=True),
    },
    "wafer_scale": {
        "cores": _i("cores", "compute cores on the wafer"),
        "sram_bytes": _n("bytes", "on-wafer SRAM"),
        "peak_flops": _n("flops", "peak 16-bit throughput of the wafer"),
        "utilisation": _n("fraction", "fraction of peak a layer sustains once it is compute-bound",
                          required=False),
        "system_power_w": _n("power", "power of the whole system at full load"),
        "idle_power_w": _n("power", "power of the whole system powered but idle"),
        "layer_latency_s": _n("time_event", "pipeline latency floor of one layer (fabric traversal, sync)"),
        "io_latency_s": _n("time_event", "host I/O latency per inference", required=False, zero_ok=True),
        "io_bandwidth_bytes_per_s": _n("bandwidth", "the system's I/O bandwidth to and from the wafer (inputs in, "
                                                    "outputs out)", required=False),
        "bytes_per_activation": _i("B", "bytes per input or output value streamed through the system's I/O",
                                   required=False),
        "bytes_per_weight": _i("B", "bytes per stored weight"),
        "skips_zero_weights": _b("hardware does no work and stores nothing for zero weights"),
        "skips_zero_activations": _b("hardware does no work for zero activations (dataflow triggering)"),
    },
    "crossbar": {
        "rows_per_tile": _i("rows", "crossbar rows (inputs) per tile"),
        "cols_per_tile": _i("columns", "physical crossbar columns per tile"),
        "cells_per_weight": _i("cells", "physical columns one weight occupies (multi-cell weights)"),
        "weight_bits": _i("bit", "weight precision the tile stores"),
        "tiles_per_chip": _i("tiles", "tiles (cores) per chip"),
        "row_drives_per_active_input": _n("factor", "row-driver (DAC) pulses per nonzero input per MVM"),
        "energy_per_row_drive_j": _n("energy_event", "energy of one row drive (DAC pulse)"),
        "conversions_per_column_per_mvm": _n("factor", "ADC conversions per column per MVM (bit-serial, phases)"),
        "energy_per_adc_conversion_j": _n("energy_event", "energy of one ADC conversion"),
        "cols_per_adc": _i("columns", "columns sharing one ADC (conversions serialised)"),
        "adc_conversion_time_s": _n("time_event", "time of one ADC conversion", zero_ok=True),
        "read_cycles_per_mvm": _n("factor", "array read cycles per MVM"),
        "array_read_time_s": _n("time_event", "time of one array read cycle"),
        "energy_array_read_per_tile_j": _n("energy_event", "array (device current) energy per tile read cycle",
                                           required=False),
        "energy_periphery_per_tile_mvm_j": _n("energy_event", "digital periphery of one tile MVM (accumulation, "
                                                              "local control)"),
        "energy_per_activation_byte_j": _n("energy_event", "moving one byte of activations between layers "
                                                           "(buffer write + read, on-chip network)"),
        "bytes_per_activation": _i("B", "bytes per activation moved between layers"),
        "static_power_per_tile_w": _n("power", "idle/peripheral power of one powered tile (leakage, bias, "
                                               "clocking)"),
        "skips_idle_tiles": _b("a tile whose inputs are all zero for a sample is not read"),
    },
    "gpu": dict(_PROCESSOR),
    "cpu": dict(_PROCESSOR),
}

#: count figures that must be at least 1
_COUNTS_AT_LEAST_ONE = ("neurons_per_core", "cores_per_chip", "rows_per_tile", "cols_per_tile", "cells_per_weight",
                        "cols_per_adc", "tiles_per_chip", "cores", "weight_bits", "bytes_per_weight",
                        "bytes_per_activation", "synapses_per_core", "input_axons_per_core", "max_fan_in",
                        "chips_per_board", "boards_per_frame", "memory_bytes")
_MAX_COUNT = 1e13


@dataclass(frozen=True)
class Figure:
    """One figure of a profile, in SI units: ``low <= typical <= high`` (equal when certain).

    ``distribution`` says how an estimate samples it (``fixed`` for a single value);
    see the module docstring for what ``low`` and ``high`` mean under each.
    """

    key: str
    low: float
    typical: float
    high: float
    source: str
    confidence: str
    unit: str = ""
    distribution: str = "fixed"
    derivation: str = ""
    note: str = ""
    is_bool: bool = False

    @property
    def single(self) -> bool:
        return self.distribution == "fixed"

    @property
    def value(self) -> float:
        return self.typical

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key}
        if self.is_bool:
            out["value"] = bool(self.typical)
        elif self.single:
            out["value"] = self.typical
        else:
            out.update(low=self.low, typical=self.typical, high=self.high, distribution=self.distribution)
        out.update(unit=self.unit, confidence=self.confidence, source=self.source)
        if self.derivation:
            out["derivation"] = self.derivation
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class Profile:
    """A validated hardware profile (immutable). Figure values are in SI units."""

    name: str
    kind: str
    title: str
    description: str
    path: str
    figures: Mapping[str, Figure]
    notes: tuple[str, ...] = field(default_factory=tuple)

    def has(self, key: str) -> bool:
        return key in self.figures

    def fig(self, key: str) -> Figure:
        return self.figures[key]

    def get(self, key: str, default: float | None = None) -> float:
        """Typical (median) value of figure ``key``; ``default`` when the profile lacks it."""
        if key not in self.figures:
            if default is None:
                raise KeyError(key)
            return default
        return self.figures[key].typical

    def flag(self, key: str) -> bool:
        return key in self.figures and bool(self.figures[key].typical)

    def uncertain(self) -> list[str]:
        """Keys of the figures that are random variables (a range with a distribution)."""
        return [k for k, f in self.figures.items() if not f.single]

    def sources(self) -> list[dict[str, str]]:
        return [{"figure": f.key, "source": f.source, "confidence": f.confidence} for f in self.figures.values()]

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "title": self.title, "description": self.description,
                "path": self.path, "notes": list(self.notes),
                "figures": [f.as_dict() for f in self.figures.values()]}


# ----------------------------------------------------------------------------- loading

def profile_dir() -> Path:
    """Folder of the bundled profiles (package data of ``hardware_profiles``)."""
    return Path(str(resources.files("hardware_profiles")))


def available_profiles() -> list[str]:
    """Names of the bundled profiles, sorted."""
    return sorted(p.stem for p in profile_dir().glob("*.toml"))


def resolve_profile_path(name_or_path: str | Path) -> Path:
    """A bundled profile name (``loihi2``) or a path to a TOML file."""
    text = str(name_or_path)
    candidate = Path(text)
    if text.endswith(".toml") or "/" in text or "\\" in text or candidate.is_file():
        if not candidate.is_file():
            raise ProfileError(f"{candidate}: profile file does not exist")
        return candidate
    bundled = profile_dir() / f"{text}.toml"
    if not bundled.is_file():
        raise ProfileError(f"unknown hardware profile {text!r} (known: {', '.join(available_profiles())}; "
                           f"or give a path to a .toml file)")
    return bundled


def load_profile(name_or_path: str | Path | Profile) -> Profile:
    """Load and validate a profile by bundled name or path; a :class:`Profile` passes through."""
    if isinstance(name_or_path, Profile):
        return name_or_path
    path = resolve_profile_path(name_or_path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML ({exc})") from None
    except RecursionError:
        raise ProfileError(f"{path}: not valid TOML (arrays or tables nested too deeply)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot read profile ({exc})") from None
    return parse_profile(data, str(path))


def load_profiles(names: list[str] | tuple[str, ...] | str | None) -> list[Profile]:
    """Load several profiles; ``'all'`` (alone or in the list) expands to every bundled profile."""
    if names is None:
        names = ["all"]
    if isinstance(names, (str, Path, Profile)):
        names = [names]  # type: ignore[list-item]
    out: list[Profile] = []
    seen: set[str] = set()
    for item in names:
        expanded = available_profiles() if isinstance(item, str) and item == "all" else [item]
        for name in expanded:
            prof = load_profile(name)
            if prof.path not in seen:
                seen.add(prof.path)
                out.append(prof)
    if not out:
        raise ProfileError("no hardware profile given")
    return out


def parse_profile(data: Mapping[str, Any], path: str) -> Profile:
    """Validate the parsed TOML ``data`` of file ``path``; see the module docstring for the rules."""
    unknown = sorted(set(data) - TOP_LEVEL_KEYS)
    if unknown:
        raise ProfileError(f"{path}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(TOP_LEVEL_KEYS))})")
    for key in ("name", "kind"):
        if not isinstance(data.get(key), str) or not data.get(key):
            raise ProfileError(f"{path}: missing or empty {key!r}")
    for key in ("title", "description"):
        if key in data and not isinstance(data[key], str):
            raise ProfileError(f"{path}: {key!r} must be a string")
    kind = data["kind"]
    if kind not in KINDS:
        raise ProfileError(f"{path}: kind {kind!r} unknown (known: {', '.join(KINDS)})")
    notes = data.get("notes", [])
    if isinstance(notes, str):
        notes = [notes]
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise ProfileError(f"{path}: 'notes' must be a list of strings")
    raw_figures = data.get("figures")
    if not isinstance(raw_figures, dict) or not raw_figures:
        raise ProfileError(f"{path}: missing [figures] table")
    schema = SCHEMA[kind]
    figures: dict[str, Figure] = {}
    for key, raw in raw_figures.items():
        if key not in schema:
            raise ProfileError(f"{path}: unknown figure 'figures.{key}' for kind {kind!r}")
        figures[key] = _parse_figure(raw, schema[key], f"figures.{key}", path)
    for key, spec in schema.items():
        if spec.required and key not in figures:
            raise ProfileError(f"{path}: missing figure 'figures.{key}' ({spec.doc})")
    if kind == "neuromorphic":
        _check_updates(figures, path)
    for key in _COUNTS_AT_LEAST_ONE:
        if key in figures and not 1 <= figures[key].typical <= _MAX_COUNT:
            raise ProfileError(f"{path}: 'figures.{key}' must be between 1 and {_MAX_COUNT:g}, "
                               f"got {figures[key].typical:g}")
    if kind == "crossbar" and figures["cells_per_weight"].typical > figures["cols_per_tile"].typical:
        raise ProfileError(f"{path}: 'figures.cells_per_weight' exceeds 'figures.cols_per_tile'")
    for idle, full in (("idle_power_w", "max_power_w"), ("idle_power_w", "system_power_w")):
        if idle in figures and full in figures and figures[idle].typical > figures[full].typical:
            raise ProfileError(f"{path}: 'figures.{idle}' typical ({figures[idle].typical:g} W) is above "
                               f"'figures.{full}' ({figures[full].typical:g} W)")
    return Profile(name=data["name"], kind=kind, title=str(data.get("title", data["name"])),
                   description=str(data.get("description", "")), path=path,
                   figures=MappingProxyType(figures), notes=tuple(notes))


def _check_updates(figures: dict[str, Figure], path: str) -> None:
    split = ("energy_per_active_update_j" in figures, "energy_per_inactive_update_j" in figures)
    if split[0] != split[1]:
        missing = "energy_per_inactive_update_j" if split[0] else "energy_per_active_update_j"
        raise ProfileError(f"{path}: missing figure 'figures.{missing}' (active and inactive go together)")
    if not split[0] and "energy_per_neuron_update_j" not in figures:
        raise ProfileError(f"{path}: missing figure 'figures.energy_per_neuron_update_j' "
                           f"(or energy_per_active_update_j + energy_per_inactive_update_j)")
    if split[0]:
        act, ina = figures["energy_per_active_update_j"], figures["energy_per_inactive_update_j"]
        if act.typical < ina.typical:
            raise ProfileError(f"{path}: 'figures.energy_per_active_update_j' typical ({act.typical:g}) "
                               f"is below the inactive update energy ({ina.typical:g})")


def _parse_figure(raw: Any, spec: FigureSpec, where: str, path: str) -> Figure:
    if not isinstance(raw, dict):
        raise ProfileError(f"{path}: '{where}' must be a table with a value (or low/typical/high) and a source")
    unknown = sorted(set(raw) - FIGURE_KEYS)
    if unknown:
        raise ProfileError(f"{path}: unknown key '{where}.{unknown[0]}' "
                           f"(allowed: {', '.join(sorted(FIGURE_KEYS))})")
    for k, v in raw.items():
        if isinstance(v, (dict, list)):
            raise ProfileError(f"{path}: '{where}.{k}' must be a single value, got a nested "
                               f"{'table' if isinstance(v, dict) else 'list'}")
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ProfileError(f"{path}: '{where}' has no source (authors, year, venue, table or section)")
    confidence = raw.get("confidence")
    if confidence not in CONFIDENCE:
        raise ProfileError(f"{path}: '{where}.confidence' must be one of {', '.join(CONFIDENCE)}, got {confidence!r}")
    if confidence == "derived" and not str(raw.get("derivation", "")).strip():
        raise ProfileError(f"{path}: '{where}' is derived but has no 'derivation'")
    for k in ("derivation", "note", "unit", "distribution"):
        if k in raw and not isinstance(raw[k], str):
            raise ProfileError(f"{path}: '{where}.{k}' must be a string, got {raw[k]!r}")
    has_value = "value" in raw
    has_range = any(k in raw for k in ("low", "typical", "high"))
    if has_value and has_range:
        raise ProfileError(f"{path}: '{where}' has both 'value' and low/typical/high; give one")
    if not has_value and not has_range:
        raise ProfileError(f"{path}: '{where}' is missing its value (value = ..., or low/typical/high)")
    factor, unit = _unit(raw.get("unit"), spec, where, path)
    common = dict(key=where.split(".", 1)[1], source=source.strip(), confidence=confidence, unit=unit,
                  derivation=str(raw.get("derivation", "")).strip(), note=str(raw.get("note", "")).strip())
    if spec.type == "bool":
        if has_range or not isinstance(raw["value"], bool) or "distribution" in raw:
            raise ProfileError(f"{path}: '{where}.value' must be true or false (no range, no distribution)")
        v = 1.0 if raw["value"] else 0.0
        return Figure(low=v, typical=v, high=v, is_bool=True, **common)
    if has_value:
        if "distribution" in raw:
            raise ProfileError(f"{path}: '{where}' has a distribution but a single value; give low/typical/high")
        v = _number(raw["value"], spec, f"{where}.value", path, factor)
        return Figure(low=v, typical=v, high=v, **common)
    if spec.type == "int":
        raise ProfileError(f"{path}: '{where}' is a count: give a single 'value', not a range")
    for k in ("low", "typical", "high"):
        if k not in raw:
            raise ProfileError(f"{path}: '{where}' is missing '{k}' (a range needs low, typical and high)")
    dist = raw.get("distribution")
    if dist not in DISTRIBUTIONS:
        raise ProfileError(f"{path}: '{where}.distribution' must be one of {', '.join(DISTRIBUTIONS)}, got {dist!r}")
    lo, ty, hi = (_number(raw[k], spec, f"{where}.{k}", path, factor) for k in ("low", "typical", "high"))
    if not lo <= ty <= hi:
        raise ProfileError(f"{path}: '{where}' must satisfy low <= typical <= high, got {lo:g}, {ty:g}, {hi:g}")
    if lo == hi:
        raise ProfileError(f"{path}: '{where}' has low == high ({lo:g}); give a single 'value'")
    if dist in ("loguniform", "lognormal") and lo <= 0:
        raise ProfileError(f"{path}: '{where}' has a {dist} distribution, so low must be positive, got {lo:g}")
    if dist == "lognormal" and not lo < ty < hi:
        raise ProfileError(f"{path}: '{where}' is lognormal: its median (typical) must lie strictly between "
                           f"the 10th (low) and 90th (high) percentiles")
    return Figure(low=lo, typical=ty, high=hi, distribution=dist, **common)


def _unit(unit: Any, spec: FigureSpec, where: str, path: str) -> tuple[float, str]:
    """(factor to SI, SI unit) of the figure's stated unit; the spec's SI unit when none is stated."""
    if spec.type == "bool":
        if unit not in (None, ""):
            raise ProfileError(f"{path}: '{where}.unit' {unit!r} given for a yes/no figure")
        return 1.0, ""
    if spec.type == "int":
        if unit is not None and unit != spec.quantity:
            raise ProfileError(f"{path}: '{where}.unit' must be {spec.quantity!r} (a count), got {unit!r}")
        return 1.0, spec.quantity
    q = QUANTITIES[spec.quantity]
    if unit is None:
        return 1.0, q.si
    if unit not in q.units:
        raise ProfileError(f"{path}: '{where}.unit' {unit!r} is not a unit of this figure "
                           f"(allowed: {', '.join(q.units)})")
    return q.units[unit], q.si


def _number(value: Any, spec: FigureSpec, where: str, path: str, factor: float = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProfileError(f"{path}: '{where}' must be a number, got {value!r}")
    if isinstance(value, int) and abs(value) > 1e300:
        raise ProfileError(f"{path}: '{where}' is absurdly large (an integer of {len(str(abs(value)))} digits)")
    if not math.isfinite(value):
        raise ProfileError(f"{path}: '{where}' must be finite, got {value!r}")
    if value < 0:
        raise ProfileError(f"{path}: '{where}' must not be negative, got {value:g}")
    if spec.type == "int" and float(value) != int(value):
        raise ProfileError(f"{path}: '{where}' must be a whole number, got {value!r}")
    v = float(value) * factor
    if spec.type == "num":
        q = QUANTITIES[spec.quantity]
        if v == 0:
            if not spec.zero_ok:
                raise ProfileError(f"{path}: '{where}' must be positive, got 0")
        elif not q.lo <= v <= q.hi:
            raise ProfileError(f"{path}: '{where}' = {v:g} {q.si} is outside the plausible range "
                               f"{q.lo:g}-{q.hi:g} {q.si} (wrong unit?)")
    return v


# ----------------------------------------------------------------------------- fit check

@dataclass(frozen=True)
class Issue:
    """One way a network does not fit (``severity='error'``) or needs care (``'warning'``)."""

    key: str
    severity: str
    message: str
    value: float | None = None
    limit: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "severity": self.severity, "message": self.message,
                "value": self.value, "limit": self.limit}


def check(network: Any, profile: Profile | str) -> list[Issue]:
    """What of ``network`` does not fit ``profile``.

    ``network`` is an :class:`~neurosim.activity.ActivityRecord`, a
    :class:`~neurosim.hardware.workload.Workload` or a ``SpikingNetwork.summary()`` dict.
    Returns a list of :class:`Issue` (empty when everything fits); severity ``'error'`` means
    the network cannot run as mapped (a neuron's fan-in exceeds a core, the weights exceed
    the wafer), ``'warning'`` means it runs with a caveat (weights quantised, ...).
    Neurons and synapses beyond one core are not issues: the mapping uses more cores.
    """
    from neurosim.hardware.workload import Workload  # local: workload imports nothing from here

    profile = load_profile(profile)
    wl = network if isinstance(network, Workload) else Workload.from_any(network)
    issues: list[Issue] = []
    wbits = wl.meta.get("weight_bits")
    if profile.has("weight_bits"):
        limit = profile.get("weight_bits")
        if wbits is not None and float(wbits) > limit:
            issues.append(Issue("weight_bits", "error", f"network weights use {wbits} bits, "
                                f"{profile.name} stores at most {limit:g}", float(wbits), limit))
        elif wbits is None:
            issues.append(Issue("weight_bits", "warning", f"float weights will be quantised to "
                                f"{limit:g} bits on {profile.name} (accuracy not re-checked here)", None, limit))
    if profile.kind == "neuromorphic":
        if wl.coding == "graded" and not profile.flag("graded_spikes"):
            issues.append(Issue("graded_spikes", "error", f"network uses graded spikes (coding 'graded'); "
                                f"{profile.name} sends binary spikes only"))
        for layer in wl.layers:
            fan_in = layer.max_fan_in
            for key, label in (("synapses_per_core", "synaptic memory of one core"),
                               ("max_fan_in", "largest fan-in")):
                if profile.has(key) and fan_in > profile.get(key):
                    issues.append(Issue(key, "error", f"layer {layer.name!r}: a neuron has fan-in {fan_in}, "
                                        f"above the {label} ({profile.get(key):g})", fan_in, profile.get(key)))
            if profile.has("input_axons_per_core") and layer.sources > profile.get("input_axons_per_core"):
                issues.append(Issue("input_axons_per_core", "error",
                                    f"layer {layer.name!r} receives from {layer.sources} presynaptic neurons, "
                                    f"above the {profile.get('input_axons_per_core'):g} input axons of a core",
                                    layer.sources, profile.get("input_axons_per_core")))
    elif profile.kind == "wafer_scale":
        need = wl.total_nnz * profile.get("bytes_per_weight")
        if need > profile.get("sram_bytes"):
            issues.append(Issue("sram_bytes", "error", f"weights need {need:.3g} B, above the "
                                f"{profile.get('sram_bytes'):.3g} B of on-wafer SRAM", need, profile.get("sram_bytes")))
    elif profile.kind in ("gpu", "cpu") and profile.has("memory_bytes"):
        need = wl.total_dense * profile.get("bytes_per_weight")
        if need > profile.get("memory_bytes"):
            issues.append(Issue("memory_bytes", "error", f"dense weights need {need:.3g} B, above the "
                                f"{profile.get('memory_bytes'):.3g} B of device memory", need, profile.get("memory_bytes")))
    return issues
