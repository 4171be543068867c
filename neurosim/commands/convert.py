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

import json
import os
from pathlib import Path
from typing import Any

from neurosim.errors import ValidationError


def register(subparsers) -> None:
    from converters.ann_to_snn import CODINGS, DEFAULT_PAYLOAD_BITS, DEFAULT_PERCENTILE, OUTPUT_ACTIVATIONS
    from neurosim.data import DATASETS

    p = subparsers.add_parser("convert", help="convert a checkpoint into a spiking network (NIR)",
                              description=__doc__.splitlines()[0])
    p.add_argument("checkpoint", help="neurosim checkpoint (.pt) or a PyTorch state dict of Linear layers")
    p.add_argument("-o", "--out", required=True, help="output NIR file (NET.nir); NET.json is written beside it")
    p.add_argument("--coding", choices=CODINGS, default="rate",
                   help="rate: integrate-and-fire spike counts; graded: sigma-delta neurons with integer payloads")
    p.add_argument("--percentile", type=float, default=DEFAULT_PERCENTILE,
                   help="normalisation percentile of positive activations (default %(default)s)")
    p.add_argument("--calibration", type=int, metavar="N",
                   help="calibrate on N training samples of --dataset instead of the checkpoint's statistics")
    p.add_argument("--dataset", choices=DATASETS, default="digits", help="calibration dataset (default digits)")
    p.add_argument("--data-dir", help="folder with the MNIST IDX files (for --dataset mnist)")
    p.add_argument("--layers", help="comma-separated state-dict layer names in forward order (plain state dicts)")
    p.add_argument("--payload-bits", type=int, default=DEFAULT_PAYLOAD_BITS,
                   help="graded coding: payload resolution in bits (default %(default)s)")
    p.add_argument("--input-encoding", choices=("regular", "bernoulli", "graded"),
                   help="rate coding: regular (default) or bernoulli spike trains; graded coding: graded")
    p.add_argument("--output-activation", choices=OUTPUT_ACTIVATIONS,
                   help="output nonlinearity (default: the checkpoint's; sigmoid for plain state dicts)")
    p.add_argument("--v-init", type=float, default=0.5, help="rate coding: initial membrane in thresholds")
    p.add_argument("--dt", type=float, default=1e-3, help="timestep in seconds (default %(default)s)")
    p.add_argument("--nir-strict", action="store_true",
                   help="write the closest standard-NIR equivalent (for snnTorch & co.), print what changed "
                        "and measure the fidelity cost")
    p.add_argument("--fidelity-samples", type=int, default=300, metavar="N",
                   help="--nir-strict: test samples for the fidelity cost (default %(default)s)")
    p.add_argument("--fidelity-timesteps", type=int, default=32, metavar="T",
                   help="--nir-strict: timesteps for the fidelity cost (default %(default)s)")
    p.set_defaults(func=run)


def run(args) -> int:
    from converters.ann_to_snn import convert_file
    from converters.nir_io import write_network

    out = Path(args.out)
    if out.suffix in (".json",):
        raise ValidationError(f"{out}: the output is a NIR file (use NET.nir); NET.json is written beside it")
    layers = args.layers.split(",") if args.layers else None
    net, ann = convert_file(args.checkpoint, args.coding, layers=layers, output_activation=args.output_activation,
                            calibration=args.calibration, dataset=args.dataset, data_dir=args.data_dir,
                            percentile=args.percentile, payload_bits=args.payload_bits,
                            input_encoding=args.input_encoding, v_init=args.v_init, dt_s=args.dt)
    summary = describe(net, out)
    strict = None
    if args.nir_strict:
        strict = strict_report(net, args)
        summary["nir_strict"] = strict
    json_path = out.with_suffix(".json")
    tmp_json = json_path.with_name(json_path.name + ".tmp")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_json.write_text(json.dumps(summary, indent=2))
    try:
        if args.nir_strict:
            from converters.nir_strict import write_strict

            write_strict(net, out)
        else:
            write_network(net, out)
    except BaseException:
        tmp_json.unlink(missing_ok=True)
        raise
    os.replace(tmp_json, json_path)
    print(human(summary))
    if strict is not None:
        print(strict_human(strict))
    print(f"wrote {out} and {json_path}")
    return 0


def strict_report(net, args) -> dict[str, Any]:
    """Changes and fidelity cost of ``--nir-strict`` (plain values for NET.json)."""
    from converters.nir_strict import fidelity_cost, strict_network
    from neurosim.data import load_dataset

    _, changes = strict_network(net)  # refuses what has no standard equivalent, before any simulation
    if args.fidelity_samples <= 0 or args.fidelity_timesteps < len(net.layers):
        raise ValidationError(f"--fidelity-samples must be positive and --fidelity-timesteps at least "
                              f"{len(net.layers)}, got {args.fidelity_samples} and {args.fidelity_timesteps}")
    data = load_dataset(args.dataset, "test", args.data_dir).subset(args.fidelity_samples)
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


def describe(net, out: Path) -> dict[str, Any]:
    """Plain summary of a converted network (written as NET.json)."""
    s = net.summary()
    meta = net.metadata
    total = sum(l.get("synapses", 0) for l in s["layers"])
    nonzero = sum(l.get("nonzero_synapses", 0) for l in s["layers"])
    return {"format": "neurosim.convert", "nir": str(out), "coding": meta.get("coding"), "model": meta.get("model"),
            "source": meta.get("source"), "shape": [l["size"] for l in s["layers"]],
            "synapses": total, "nonzero_synapses": nonzero,
            "weight_density": nonzero / total if total else None, **s}


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
    if summary["coding"] == "graded":
        lines.append(f"  payloads: {meta.get('payload_bits')} bits (step {meta.get('payload_step'):.4g} of the "
                     f"scale); largest calibration activation needs {max(meta.get('max_payload_int', [0]))}")
    return "\n".join(lines)
