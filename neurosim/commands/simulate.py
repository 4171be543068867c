"""``neurosim simulate NET.nir -o ACT``: run a spiking network on dataset samples, write its activity record.

Writes ``ACT.json`` (summary) and ``ACT.npz`` (arrays) with
:meth:`neurosim.activity.ActivityRecord.save`. For a network converted from a ReLU ANN the
record also holds the ANN's own reconstruction (``ann_outputs``): from the source checkpoint
when it is still there with the same SHA-256, otherwise recomputed from the network's weights,
which reproduce the ANN exactly (:func:`converters.ann_to_snn.ann_forward_from_network`).
``info['fidelity']`` compares each hidden layer's spike rates with the ANN's activations.

NIR graphs written by other tools (snnTorch, Norse, ...) simulate too
(:func:`converters.nir_io.read_network`): their input is an analog current unless
``--input-encoding`` says otherwise, ``--inputs X.npy`` feeds samples of any width, and
``--dt`` sets the time step of a graph that states none (1 ms by default; snnTorch writes its
time constants for 0.1 ms, so ``--dt 1e-4``). ``neurosim report`` accepts a NIR file in place of
an activity record and simulates it here first (:func:`record_from_network_file`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from neurosim.errors import ValidationError


def register(subparsers) -> None:
    from neurosim.backends import BACKENDS

    p = subparsers.add_parser("simulate", help="simulate a spiking network, write its activity record",
                              description=__doc__.splitlines()[0])
    p.add_argument("network", help="spiking network (NIR file: neurosim's or another tool's)")
    p.add_argument("-o", "--out", required=True, help="record stem: writes OUT.json and OUT.npz")
    p.add_argument("--backend", choices=list(BACKENDS), default="reference")
    p.add_argument("--backend-option", action="append", default=[], metavar="KEY=VALUE",
                   help="backend option, repeatable: brian2 target=numpy|cython|cpp_standalone, chunk_size=N; "
                        "lava chunk_size=N, synapses=sparse|dense")
    add_input_options(p)
    p.add_argument("--profile", action="append", metavar="NAME|FILE",
                   help="after simulating, print the energy and latency report on this hardware profile "
                        "(repeatable; 'all' for every bundled profile); writes OUT.report.json")
    p.add_argument("--report-format", choices=("text", "json", "md", "html"), default="text",
                   help="format of the printed report (default %(default)s)")
    p.set_defaults(func=run)


def add_input_options(p) -> None:
    """Options that pick the samples, steps and time step of a simulation (shared with ``report``)."""
    from neurosim.data import DATASETS, SPLITS

    p.add_argument("--dataset", choices=DATASETS, default="digits")
    p.add_argument("--data-dir", help="folder with the MNIST IDX files (for --dataset mnist)")
    p.add_argument("--split", choices=SPLITS, default="test")
    p.add_argument("--samples", type=int, help="first N samples (default: all)")
    p.add_argument("--inputs", metavar="X.npy", help="samples as a (N, d) array in a .npy file instead of --dataset "
                                                     "(for NIR graphs from other tools)")
    p.add_argument("--timesteps", "-T", type=int, default=32, help="simulation steps T (default %(default)s)")
    p.add_argument("--dt", type=float, help="time step in seconds for a NIR graph that states none "
                                            "(default 1e-3; snnTorch graphs: 1e-4)")
    p.add_argument("--input-encoding", choices=("current", "regular", "bernoulli"),
                   help="input encoding for a NIR graph from another tool (default: current, the analog value)")
    p.add_argument("--seed", type=int, default=0, help="seed of the stochastic (bernoulli) input encoding")


def run(args) -> int:
    options = parse_backend_options(args.backend_option)
    record = record_from_network_file(args.network, args, backend=args.backend, progress=True, **options)
    json_path, npz_path = record.save(args.out)
    print(human(record))
    print(f"wrote {json_path} and {npz_path}")
    if args.profile:
        from neurosim.reporting.energy_report import print_report_for

        report_json = json_path.with_name(json_path.stem + ".report.json")
        print_report_for(record, args.profile, args.report_format, json_path=report_json,
                         source=str(json_path.with_suffix("")))
        print(f"wrote {report_json}")
    return 0


def parse_backend_options(items: list[str]) -> dict[str, Any]:
    """``['target=cython', 'chunk_size=64']`` -> ``{'target': 'cython', 'chunk_size': 64}``."""
    options: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValidationError(f"--backend-option must be KEY=VALUE, got {item!r}")
        try:
            options[key.strip()] = int(value)
        except ValueError:
            options[key.strip()] = value.strip()
    return options


def record_from_network_file(path, args, *, backend: str = "reference", progress: bool = False,
                             **backend_options: Any):
    """Read the NIR file ``path`` and simulate it on the samples ``args`` (see :func:`add_input_options`)."""
    from converters.nir_io import read_network
    from neurosim.backends import simulate
    from neurosim.data import load_dataset
    from neurosim.inputs import load_inputs

    if args.samples is not None and args.samples <= 0:
        raise ValidationError(f"--samples must be positive, got {args.samples}")
    if args.dt is not None and not (np.isfinite(args.dt) and args.dt > 0):
        raise ValidationError(f"--dt must be a positive number of seconds, got {args.dt}")
    net = read_network(path, dt_s=args.dt, input_encoding=args.input_encoding)
    if args.inputs:
        x, labels = load_inputs(args.inputs, net.input_size, args.samples), None
        info = {"dataset": Path(args.inputs).name, "split": "inputs", "dataset_note": f"samples from {args.inputs}"}
    else:
        data = load_dataset(args.dataset, args.split, args.data_dir).subset(args.samples)
        if data.num_features != net.input_size:
            raise ValidationError(f"{path}: the network takes {net.input_size} inputs but {args.dataset} "
                                  f"samples have {data.num_features} features (pick the matching --dataset, "
                                  "or give --inputs X.npy)")
        x, labels = data.x.astype(np.float64), data.y
        info = {"dataset": data.name, "split": data.split, "dataset_note": data.note}
    ann_outputs, ann_hidden, ann_source = ann_reference(net, x)
    options = {"progress": True} if progress and backend == "reference" else {}
    options.update(backend_options)
    info.update({"network_file": str(path), "coding": net.metadata.get("coding"), "model": net.metadata.get("model"),
                 "source": net.metadata.get("source"), "ann_source": ann_source,
                 "dt_source": net.metadata.get("dt_source", "graph"), "input_encoding": net.layers[0].options["encoding"]})
    record = simulate(net, x, args.timesteps, backend=backend, seed=args.seed, labels=labels,
                      ann_outputs=ann_outputs, info=info, **options)
    if ann_hidden is not None:
        record.info["fidelity"] = fidelity(record, ann_hidden)
    record.network["path"] = str(path)
    return record


def ann_reference(net, x: np.ndarray) -> tuple[np.ndarray | None, list[np.ndarray] | None, str | None]:
    """The ANN's reconstruction and hidden activations (network units) for a converted network."""
    from converters.ann_to_snn import _sha256, ann_forward_from_network, load_ann

    if not net.metadata.get("ann_equivalent"):
        return None, None, None
    hidden, out = ann_forward_from_network(net, x)
    source = net.metadata.get("source")
    if source and Path(source).is_file() and _sha256(Path(source)) == net.metadata.get("source_sha256"):
        ann = load_ann(source, layers=None if net.metadata.get("source_format") != "state_dict"
                       else net.metadata.get("ann_layers"), output_activation=net.metadata.get("output_activation"))
        _, out_ckpt = ann.forward(x)
        if np.allclose(out_ckpt, out, rtol=0, atol=1e-9):
            return out_ckpt, hidden, f"checkpoint {source}"
    return out, hidden, "network weights (ANN-equivalent)"


def fidelity(record, ann_hidden: list[np.ndarray]) -> list[dict[str, Any]]:
    """Per hidden layer: active fractions of the SNN and the ANN and the rate/activation correlation."""
    out = []
    for layer, h in zip(record.layers[1:-1], ann_hidden):
        counts = layer.spike_counts
        rates = counts / max(layer.timesteps, 1)
        entry = {"layer": layer.name, "snn_active_fraction": float((counts > 0).mean()),
                 "ann_active_fraction": float((h > 0).mean())}
        if layer.kind != "sigma_delta" and rates.std() > 0 and h.std() > 0:  # graded counts are not rates
            entry["rate_activation_correlation"] = float(np.corrcoef(rates.ravel(), h.ravel())[0, 1])
            mu_r, mu_h = rates.mean(axis=0), h.mean(axis=0)
            if mu_r.std() > 0 and mu_h.std() > 0:
                entry["unit_mean_correlation"] = float(np.corrcoef(mu_r, mu_h)[0, 1])
        out.append(entry)
    return out


def human(record) -> str:
    s = record.summary()
    n = record.num_samples
    lines = [f"simulated {record.info.get('network_file')} on {record.backend}: {n} {record.info.get('dataset')} "
             f"{record.info.get('split')} samples x T={record.timesteps} steps in {record.wall_time_s:.2f} s"]
    if record.info.get("dt_source") in ("default", "argument"):
        timed = [l["kind"] for l in record.network.get("layers", []) if l["kind"] in ("lif", "cuba_lif", "li")]
        how = "given with --dt" if record.info["dt_source"] == "argument" else \
            "default: the graph states none; snnTorch graphs need --dt 1e-4"
        lines.append(f"  dt = {record.dt_s:g} s ({how}); input encoding {record.info.get('input_encoding')}"
                     + ("" if timed else "; no time constants, so dt does not change the spikes"))
    if s["mse_vs_input"] is not None:
        line = f"  MSE vs input {s['mse_vs_input']:.5f}"
        if s["ann_mse_vs_input"]:
            line += f" (ANN {s['ann_mse_vs_input']:.5f}, ratio {s['mse_vs_input'] / s['ann_mse_vs_input']:.3f})"
        if s["mse_vs_ann"] is not None:
            line += f"; MSE vs ANN {s['mse_vs_ann']:.2e}"
        lines.append(line)
    per_layer = ", ".join(f"{l['name']} {l['synaptic_ops_per_inference']:.0f}" for l in s["layers"]
                          if l["synaptic_ops"])
    lines.append(f"  per inference: {s['spikes_per_inference']:.0f} spikes, {s['synaptic_ops_per_inference']:.0f} "
                 f"synaptic ops ({per_layer})")
    for f in record.info.get("fidelity", []):
        line = (f"  {f['layer']}: active fraction {f['snn_active_fraction']:.3f} "
                f"(ANN {f['ann_active_fraction']:.3f})")
        if "rate_activation_correlation" in f:
            line += f", rate/activation correlation r={f['rate_activation_correlation']:.3f}"
        lines.append(line)
    return "\n".join(lines)
