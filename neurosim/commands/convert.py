"""``neurosim convert CHECKPOINT -o NET.nir``: an autoencoder checkpoint becomes a spiking network.

Reads a neurosim checkpoint or a plain PyTorch state dict of Linear layers (ReLU between them),
normalises it on calibration data (Rueckauer et al. 2017) and writes the spiking network as NIR,
plus ``NET.json`` beside it (the network's summary: layers, synapses, calibration, coding).
See :mod:`converters.ann_to_snn` for the conversion and :mod:`converters.nir_io` for the file.

With ``--nir-strict`` the file holds only standard NIR nodes, no neurosim metadata on them: the
closest standard equivalent (:mod:`converters.nir_strict`: reset to zero instead of subtraction,
no initial membrane, analog input instead of the spike encoding, the readout as the last
Affine's current). The changes are printed, and their fidelity cost (reconstruction MSE of the
strict and the neurosim network on ``--fidelity-samples`` test samples of ``--dataset`` at
``--fidelity-timesteps``, reference engine) goes into ``NET.json`` under ``nir_strict``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from neurosim import defaults
from neurosim.errors import ValidationError


def register(subparsers) -> None:
    from converters.ann_to_snn import CODINGS, OUTPUT_ACTIVATIONS
    from neurosim.data import DATASETS

    p = subparsers.add_parser("convert", help="convert a checkpoint into a spiking network (NIR)",
                              description=__doc__.splitlines()[0].replace("``", ""))
    p.add_argument("checkpoint", help="neurosim checkpoint (.pt) or a PyTorch state dict of Linear layers")
    p.add_argument("-o", "--out", required=True, help="output NIR file (NET.nir); NET.json is written beside it")
    p.add_argument("--coding", choices=CODINGS, default=defaults.CODING,
                   help="rate: integrate-and-fire neurons, values as spike counts over T steps; graded: "
                        "sigma-delta neurons sending integer payloads (default %(default)s)")
    p.add_argument("--percentile", type=float, default=defaults.CALIBRATION_PERCENTILE, metavar="P",
                   help="normalisation percentile of positive activations (default %(default)s)")
    p.add_argument("--calibration", type=int, metavar="N", default=None,
                   help="calibrate on N training samples of --dataset instead of the checkpoint's statistics "
                        f"(default: the stored statistics; {defaults.CALIBRATION_SAMPLES} samples for plain "
                        "state dicts)")
    p.add_argument("--dataset", choices=DATASETS, default=None,
                   help="the model's dataset, for calibration and recorded in the network for later stages "
                        f"(default: the checkpoint's own, else {defaults.DATASET})")
    p.add_argument("--data-dir", metavar="DIR", default=None,
                   help="folder with the MNIST IDX files (default: the folder of the checkpoint's training run)")
    p.add_argument("--layers", default=None, metavar="NAMES",
                   help="comma-separated state-dict layer names in forward order (plain state dicts; "
                        "default: the order of the keys)")
    p.add_argument("--payload-bits", type=int, default=defaults.PAYLOAD_BITS, metavar="BITS",
                   help="graded coding: payload bits at the calibration percentile; larger activations are "
                        "sent as wider payloads, never clipped (default %(default)s)")
    p.add_argument("--input-encoding", choices=("regular", "bernoulli", "graded"), default=None,
                   help="rate coding: regular or bernoulli spike trains; graded coding: graded "
                        "(default: regular for rate, graded for graded)")
    p.add_argument("--output-activation", choices=OUTPUT_ACTIVATIONS, default=None,
                   help="output nonlinearity (default: the checkpoint's; sigmoid for plain state dicts)")
    p.add_argument("--v-init", type=float, default=defaults.V_INIT, metavar="V",
                   help="rate coding: initial membrane in thresholds (default %(default)s)")
    p.add_argument("--dt", type=float, default=defaults.DT_S, metavar="SECONDS",
                   help="timestep in seconds (default %(default)s)")
    p.add_argument("--nir-strict", action="store_true",
                   help="write the closest standard-NIR equivalent (for snnTorch & co.), print what changed "
                        "and measure the fidelity cost (default: neurosim's NIR with its metadata)")
    p.add_argument("--fidelity-samples", type=int, default=300, metavar="N",
                   help="--nir-strict: test samples for the fidelity cost (default %(default)s)")
    p.add_argument("--fidelity-timesteps", type=int, default=defaults.TIMESTEPS, metavar="T",
                   help="--nir-strict: timesteps for the fidelity cost (default %(default)s)")
    p.set_defaults(func=run)


def run(args) -> int:
    from neurosim.pipeline import convert

    out = Path(args.out)
    if out.suffix in (".json",):
        raise ValidationError(f"{out}: the output is a NIR file (use NET.nir); NET.json is written beside it")
    from neurosim.limits import DT_S_RANGE

    if not DT_S_RANGE[0] <= args.dt <= DT_S_RANGE[1]:
        raise ValidationError(f"--dt must be between {DT_S_RANGE[0]:g} and {DT_S_RANGE[1]:g} seconds, got {args.dt:g}")
    layers = args.layers.split(",") if args.layers else None
    result = convert(args.checkpoint, args.coding, layers=layers, output_activation=args.output_activation,
                     calibration=args.calibration, dataset=args.dataset, data_dir=args.data_dir,
                     percentile=args.percentile, payload_bits=args.payload_bits,
                     input_encoding=args.input_encoding, v_init=args.v_init, dt_s=args.dt)
    net = result.network
    strict = None
    if args.nir_strict:
        strict = strict_report(net, args)
        result.summary["nir_strict"] = strict
    result.save(out, strict=args.nir_strict)
    print(human(result.summary))
    if strict is not None:
        print(strict_human(strict))
    print(f"wrote {out} and {out.with_suffix('.json')}")
    return 0


def strict_report(net, args) -> dict[str, Any]:
    """Changes and fidelity cost of ``--nir-strict`` (plain values for NET.json)."""
    from converters.nir_strict import fidelity_cost, strict_network
    from neurosim.data import load_dataset

    _, changes = strict_network(net)  # refuses what has no standard equivalent, before any simulation
    if args.fidelity_samples <= 0:
        raise ValidationError(f"--fidelity-samples must be positive, got {args.fidelity_samples}")
    defaults.check_timesteps(args.fidelity_timesteps, len(net.layers), "--fidelity-timesteps")
    meta = net.metadata
    data = load_dataset(meta.get("dataset", defaults.DATASET), "test", meta.get("data_dir")).subset(args.fidelity_samples)
    cost = fidelity_cost(net, data.x.astype("float64"), args.fidelity_timesteps)
    cost["dataset"] = f"{data.name} test"
    return {"standard_nodes_only": True, "changes": changes, "fidelity": cost}


def strict_human(strict: dict[str, Any]) -> str:
    from converters.nir_strict import describe_changes

    f = strict["fidelity"]
    mse = f["mse_vs_input"]
    lines = ["  --nir-strict: standard NIR nodes only; changed:", *describe_changes(strict["changes"])]
    if mse["neurosim"] is not None:
        lines.append(f"  fidelity cost ({f['samples']} {f['dataset']} samples, T={f['timesteps']}): reconstruction MSE "
                     f"{mse['strict']:.5f} strict vs {mse['neurosim']:.5f} neurosim (ratio {f['ratio']:.3f}); "
                     f"outputs differ by MSE {f['mse_between']:.2e}")
        only = ", ".join(f"{k} alone {v:.5f}" for k, v in f.get("mse_vs_input_with_only", {}).items())
        if only:
            lines.append(f"  per change: {only}")
    return "\n".join(lines)


def human(summary: dict[str, Any]) -> str:
    meta = summary["metadata"]
    cal = meta.get("calibration", {})
    kinds = " -> ".join(f"{l['name']}({l['kind']}, {l['size']})" for l in summary["layers"])
    scales = ", ".join(f"{s:.4g}" for s in cal.get("scales", []))
    lines = [f"converted {summary.get('model')} ({summary.get('source')}) with {summary['coding']} coding",
             f"  layers: {kinds}",
             f"  synapses: {summary['nonzero_synapses']} of {summary['synapses']} nonzero "
             f"({100 * (summary['weight_density'] or 0):.1f}%)",
             f"  calibration: {cal.get('source')} at the {cal.get('percentile')}th percentile "
             f"({cal.get('num_samples')} samples); scales input, hidden: {scales}"]
    if meta.get("gate") == "threshold":
        lines.append("  gate: learned thresholds reproduced as negative bias currents")
    if summary.get("dataset"):
        where = f" in {summary['data_dir']}" if summary.get("data_dir") else ""
        lines.append(f"  data: {summary['dataset']}{where} (recorded in the network: later stages use it)")
    pay = summary.get("payloads")
    if pay:
        widened = pay["bits_needed"] > pay["bits"]
        lines.append(f"  payloads: {pay['bits']} bits (step {pay['step']:.4g} of the scale) cover activations up to "
                     f"the calibration percentile; larger ones are widened, never clipped: the largest calibration "
                     f"activation is payload {pay['max_calibration_payload_int']}, "
                     + (f"which needs {pay['bits_needed']} bits" if widened else f"within {pay['bits']} bits"))
    return "\n".join(lines)
