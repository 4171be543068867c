"""Hardware profiles: declarative TOML files, loaded and validated into frozen dataclasses.

A profile is data, not code (see ``hardware_profiles/``). Each file names its target
``kind`` (one cost model per kind, :mod:`neurosim.hardware`) and lists *figures*: a capacity,
a per-event energy, a time, a power or a yes/no property of the hardware. Every figure
carries its source (authors, year, venue, table or section) and a confidence label::

    name = "loihi"
    kind = "neuromorphic"
    title = "Intel Loihi (gen 1)"
    description = "..."

    [figures.energy_per_synop_j]          # a range: the literature disagrees
    low = 23.6e-12
    typical = 35.5e-12
    high = 39.7e-12
    confidence = "V2"
    source = "Davies et al. 2018, IEEE Micro 38(1):82-99, Table 2 ..."
    derivation = "high = 35.5 pJ x 1.117 (Boyle et al. report 11.7 % energy error)"

    [figures.neurons_per_core]            # a single value
    value = 1024
    confidence = "V2"
    source = "Davies et al. 2018 ..."

Rules enforced on load (each violation is a one-line :class:`~neurosim.errors.ProfileError`
naming the file and the key): unknown top-level or figure key, missing required figure,
figure without ``source`` or ``confidence``, negative or non-finite value, a range with
``low <= typical <= high`` violated, a value of the wrong type.

Confidence labels (from ``shared/reference/hardware-figures.md``): ``V1`` primary text,
``V2`` verbatim secondary quote, ``V3`` single secondary source, ``U`` remembered and
unverified, ``derived`` computed from other figures (``derivation`` says how), ``proxy``
borrowed from a related chip, ``assumption`` a modelling choice with no published figure.

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

KINDS = ("neuromorphic", "wafer_scale", "crossbar", "gpu")
CONFIDENCE = ("V1", "V2", "V3", "U", "derived", "proxy", "assumption")
TOP_LEVEL_KEYS = {"name", "kind", "title", "description", "notes", "figures"}
FIGURE_KEYS = {"value", "low", "typical", "high", "source", "confidence", "derivation", "unit", "note"}


@dataclass(frozen=True)
class FigureSpec:
    """Schema entry: ``type`` is 'num' (a value or a low/typical/high range), 'int' or 'bool'.

    ``inverse`` marks throughput-like figures (higher value -> lower cost): the pessimistic
    ('high') scenario of an estimate takes their ``low`` bound and vice versa.
    """

    type: str
    required: bool
    unit: str
    doc: str
    inverse: bool = False


def _n(unit: str, doc: str, required: bool = True, inverse: bool = False) -> FigureSpec:
    return FigureSpec("num", required, unit, doc, inverse)


def _i(unit: str, doc: str, required: bool = True) -> FigureSpec:
    return FigureSpec("int", required, unit, doc)


def _b(doc: str, required: bool = True) -> FigureSpec:
    return FigureSpec("bool", required, "", doc)


#: kind -> figure key -> spec. A key not listed for the profile's kind is refused.
SCHEMA: dict[str, dict[str, FigureSpec]] = {
    "neuromorphic": {
        "neurons_per_core": _i("neurons", "neurons (compartments) one core can hold"),
        "cores_per_chip": _i("cores", "neuro-cores (processing elements) per chip usable for neurons"),
        "weight_bits": _i("bit", "largest synaptic weight precision"),
        "synapses_per_core": _i("synapses", "synaptic memory of one core, in synapses", required=False),
        "input_axons_per_core": _i("axons", "distinct presynaptic sources one core can receive from",
                                   required=False),
        "max_fan_in": _i("synapses", "largest fan-in of one neuron", required=False),
        "graded_spikes": _b("spikes can carry an integer payload (graded spikes)"),
        "energy_per_synop_j": _n("J", "energy of one synaptic operation (weight fetch + accumulate)"),
        "energy_per_neuron_update_j": _n("J", "energy of one neuron update (when active/inactive not split)",
                                         required=False),
        "energy_per_active_update_j": _n("J", "energy of a neuron update with input or a spike", required=False),
        "energy_per_inactive_update_j": _n("J", "energy of a leak-only neuron update", required=False),
        "energy_per_spike_j": _n("J", "energy of emitting and routing one spike message"),
        "static_power_per_chip_w": _n("W", "static (leakage + idle management) power of one chip"),
        "time_per_synop_s": _n("s", "time one core needs per synaptic operation"),
        "time_per_neuron_update_s": _n("s", "time one core needs per neuron update", required=False),
        "time_per_spike_s": _n("s", "time to emit/route one spike from a core", required=False),
        "sync_time_per_step_s": _n("s", "end-of-timestep barrier synchronisation", required=False),
        "timestep_floor_s": _n("s", "shortest wall-clock timestep (real-time throttle or host I/O)",
                               required=False),
    },
    "wafer_scale": {
        "cores": _i("cores", "compute cores on the wafer"),
        "sram_bytes": _n("B", "on-wafer SRAM"),
        "peak_flops": _n("FLOP/s", "peak 16-bit throughput", inverse=True),
        "utilisation": _n("1", "fraction of peak a layer sustains once it is compute-bound",
                          required=False, inverse=True),
        "system_power_w": _n("W", "power of the whole system while it serves the model"),
        "layer_latency_s": _n("s", "pipeline latency floor of one layer (fabric traversal, sync)"),
        "io_latency_s": _n("s", "host I/O latency per inference", required=False),
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
        "row_drives_per_active_input": _n("drives", "row-driver (DAC) pulses per nonzero input per MVM"),
        "energy_per_row_drive_j": _n("J", "energy of one row drive (DAC pulse)"),
        "conversions_per_column_per_mvm": _n("1", "ADC conversions per column per MVM (bit-serial, phases)"),
        "energy_per_adc_conversion_j": _n("J", "energy of one ADC conversion"),
        "cols_per_adc": _i("columns", "columns sharing one ADC (conversions serialised)"),
        "adc_conversion_time_s": _n("s", "time of one ADC conversion"),
        "read_cycles_per_mvm": _n("1", "array read cycles per MVM"),
        "array_read_time_s": _n("s", "time of one array read cycle"),
        "energy_array_read_per_tile_j": _n("J", "array (device current) energy per tile read cycle",
                                           required=False),
        "energy_periphery_per_tile_mvm_j": _n("J", "digital periphery per tile MVM (buffers, accumulation, NoC)"),
        "static_power_per_tile_w": _n("W", "static power of one used tile", required=False),
        "skips_idle_tiles": _b("a tile whose inputs are all zero for a sample is not read"),
    },
    "gpu": {
        "peak_flops": _n("FLOP/s", "peak dense 16-bit tensor throughput", inverse=True),
        "memory_bandwidth_bytes_per_s": _n("B/s", "device memory bandwidth", inverse=True),
        "memory_bytes": _n("B", "device memory", required=False),
        "kernel_launch_s": _n("s", "launch + scheduling latency of one kernel"),
        "kernels_per_layer": _n("kernels", "kernels launched per dense layer at batch 1"),
        "host_transfer_s": _n("s", "host<->device copies per inference", required=False),
        "bytes_per_weight": _i("B", "bytes per weight"),
        "bytes_per_activation": _i("B", "bytes per activation"),
        "power_active_w": _n("W", "board power while serving batch-1 inferences"),
        "energy_per_mac_j": _n("J", "energy of one dense MAC (peak-efficiency derived)"),
        "energy_per_byte_j": _n("J", "energy of moving one byte from device memory"),
    },
}


@dataclass(frozen=True)
class Figure:
    """One figure of a profile: ``low <= typical <= high`` (equal for a single value)."""

    key: str
    low: float
    typical: float
    high: float
    source: str
    confidence: str
    unit: str = ""
    derivation: str = ""
    note: str = ""
    single: bool = True
    is_bool: bool = False

    def get(self, scenario: str = "typical") -> float:
        """Value for ``scenario`` in ('low', 'typical', 'high')."""
        return {"low": self.low, "typical": self.typical, "high": self.high}[scenario]

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
            out.update(low=self.low, typical=self.typical, high=self.high)
        out.update(unit=self.unit, confidence=self.confidence, source=self.source)
        if self.derivation:
            out["derivation"] = self.derivation
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class Profile:
    """A validated hardware profile (immutable)."""

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

    def get(self, key: str, scenario: str = "typical", default: float | None = None) -> float:
        """Figure ``key`` for cost scenario ``scenario``.

        In the 'low' (optimistic) scenario a cost figure takes its low bound and a throughput
        figure (``inverse``) its high bound; 'high' the other way round.
        """
        if key not in self.figures:
            if default is None:
                raise KeyError(key)
            return default
        spec = SCHEMA[self.kind][key]
        if spec.inverse and scenario != "typical":
            scenario = "high" if scenario == "low" else "low"
        return self.figures[key].get(scenario)

    def flag(self, key: str) -> bool:
        return key in self.figures and bool(self.figures[key].typical)

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
        split = ("energy_per_active_update_j" in figures, "energy_per_inactive_update_j" in figures)
        if split[0] != split[1]:
            missing = "energy_per_inactive_update_j" if split[0] else "energy_per_active_update_j"
            raise ProfileError(f"{path}: missing figure 'figures.{missing}' (active and inactive go together)")
        if not split[0] and "energy_per_neuron_update_j" not in figures:
            raise ProfileError(f"{path}: missing figure 'figures.energy_per_neuron_update_j' "
                               f"(or energy_per_active_update_j + energy_per_inactive_update_j)")
        if split[0]:
            act, ina = figures["energy_per_active_update_j"], figures["energy_per_inactive_update_j"]
            for sc in ("low", "typical", "high"):
                if act.get(sc) < ina.get(sc):
                    raise ProfileError(f"{path}: 'figures.energy_per_active_update_j' {sc} ({act.get(sc):g}) "
                                       f"is below the inactive update energy ({ina.get(sc):g})")
    for key in ("neurons_per_core", "cores_per_chip", "rows_per_tile", "cols_per_tile", "cells_per_weight",
                "cols_per_adc", "tiles_per_chip", "cores", "weight_bits", "bytes_per_weight",
                "bytes_per_activation", "synapses_per_core", "input_axons_per_core", "max_fan_in"):
        if key in figures and figures[key].typical < 1:
            raise ProfileError(f"{path}: 'figures.{key}' must be at least 1, got {figures[key].typical:g}")
    if kind == "crossbar" and figures["cells_per_weight"].typical > figures["cols_per_tile"].typical:
        raise ProfileError(f"{path}: 'figures.cells_per_weight' exceeds 'figures.cols_per_tile'")
    for key in ("peak_flops", "memory_bandwidth_bytes_per_s", "utilisation"):
        if key in figures and figures[key].low <= 0:
            raise ProfileError(f"{path}: 'figures.{key}' must be positive, got {figures[key].low:g}")
    return Profile(name=data["name"], kind=kind, title=str(data.get("title", data["name"])),
                   description=str(data.get("description", "")), path=path,
                   figures=MappingProxyType(figures), notes=tuple(notes))


def _parse_figure(raw: Any, spec: FigureSpec, where: str, path: str) -> Figure:
    if not isinstance(raw, dict):
        raise ProfileError(f"{path}: '{where}' must be a table with a value (or low/typical/high) and a source")
    unknown = sorted(set(raw) - FIGURE_KEYS)
    if unknown:
        raise ProfileError(f"{path}: unknown key '{where}.{unknown[0]}' "
                           f"(allowed: {', '.join(sorted(FIGURE_KEYS))})")
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ProfileError(f"{path}: '{where}' has no source (authors, year, venue, table or section)")
    confidence = raw.get("confidence")
    if confidence not in CONFIDENCE:
        raise ProfileError(f"{path}: '{where}.confidence' must be one of {', '.join(CONFIDENCE)}, got {confidence!r}")
    if confidence == "derived" and not str(raw.get("derivation", "")).strip():
        raise ProfileError(f"{path}: '{where}' is derived but has no 'derivation'")
    has_value = "value" in raw
    has_range = any(k in raw for k in ("low", "typical", "high"))
    if has_value and has_range:
        raise ProfileError(f"{path}: '{where}' has both 'value' and low/typical/high; give one")
    if not has_value and not has_range:
        raise ProfileError(f"{path}: '{where}' is missing its value (value = ..., or low/typical/high)")
    common = dict(key=where.split(".", 1)[1], source=source.strip(), confidence=confidence,
                  unit=str(raw.get("unit", spec.unit)), derivation=str(raw.get("derivation", "")).strip(),
                  note=str(raw.get("note", "")).strip())
    if spec.type == "bool":
        if has_range or not isinstance(raw["value"], bool):
            raise ProfileError(f"{path}: '{where}.value' must be true or false")
        v = 1.0 if raw["value"] else 0.0
        return Figure(low=v, typical=v, high=v, single=True, is_bool=True, **common)
    if has_value:
        v = _number(raw["value"], spec, f"{where}.value", path)
        return Figure(low=v, typical=v, high=v, single=True, **common)
    if spec.type == "int":
        raise ProfileError(f"{path}: '{where}' is a count: give a single 'value', not a range")
    for k in ("low", "typical", "high"):
        if k not in raw:
            raise ProfileError(f"{path}: '{where}' is missing '{k}' (a range needs low, typical and high)")
    lo, ty, hi = (_number(raw[k], spec, f"{where}.{k}", path) for k in ("low", "typical", "high"))
    if not lo <= ty <= hi:
        raise ProfileError(f"{path}: '{where}' must satisfy low <= typical <= high, got {lo:g}, {ty:g}, {hi:g}")
    return Figure(low=lo, typical=ty, high=hi, single=False, **common)


def _number(value: Any, spec: FigureSpec, where: str, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProfileError(f"{path}: '{where}' must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ProfileError(f"{path}: '{where}' must be finite, got {value!r}")
    if value < 0:
        raise ProfileError(f"{path}: '{where}' must not be negative, got {value:g}")
    if spec.type == "int" and float(value) != int(value):
        raise ProfileError(f"{path}: '{where}' must be a whole number, got {value!r}")
    return float(value)


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
    elif profile.kind == "gpu" and profile.has("memory_bytes"):
        need = wl.total_dense * profile.get("bytes_per_weight")
        if need > profile.get("memory_bytes"):
            issues.append(Issue("memory_bytes", "error", f"dense weights need {need:.3g} B, above the "
                                f"{profile.get('memory_bytes'):.3g} B of device memory", need, profile.get("memory_bytes")))
    return issues
