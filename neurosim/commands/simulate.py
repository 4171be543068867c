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
an activity record and simulates it here first (:func:`record_from_args`).

The samples default to the network's own dataset and data folder (recorded by ``neurosim
convert``), test split; ``--dataset``/``--data-dir``/``--split`` override them. The command is a
thin layer over :func:`neurosim.pipeline.simulate`.
"""
from __future__ import annotations

import sys
from typing import Any

from neurosim import defaults
from neurosim.errors import ValidationError


def register(subparsers) -> None:
    from neurosim.backends import BACKENDS

    p = subparsers.add_parser("simulate", help="simulate a spiking network, write its activity record",
                              description=__doc__.splitlines()[0].replace("``", ""))
    p.add_argument("network", help="spiking network (NIR file: neurosim's or another tool's)")
    p.add_argument("-o", "--out", required=True, help="record stem: writes OUT.json and OUT.npz")
    p.add_argument("--backend", choices=list(BACKENDS), default=defaults.BACKEND,
                   help="simulator: reference (numpy engine), torch (CPU threads or CUDA), brian2 or lava "
                        "(default %(default)s)")
    p.add_argument("--backend-option", action="append", default=[], metavar="KEY=VALUE",
                   help="backend option, repeatable: brian2 target=numpy|cython|cpp_standalone, chunk_size=N; "
                        "lava chunk_size=N, synapses=sparse|dense (default: none)")
    add_input_options(p)
    add_scale_options(p)
    p.add_argument("--profile", action="append", metavar="NAME|FILE",
                   help="after simulating, print the energy and latency report on this hardware profile "
                        "(repeatable; 'all' for every bundled profile); writes OUT.report.json (default: no report)")
    p.add_argument("--report-format", choices=("text", "json", "md", "html"), default="text",
                   help="format of the printed report (default %(default)s)")
    p.set_defaults(func=run)


def add_input_options(p) -> None:
    """Options that pick the samples, steps and time step of a simulation (shared with ``report``)."""
    from neurosim.data import DATASETS, SPLITS

    p.add_argument("--dataset", choices=DATASETS, default=None,
                   help="dataset of the samples (default: the network's own, recorded by neurosim convert; "
                        f"else {defaults.DATASET})")
    p.add_argument("--data-dir", metavar="DIR", default=None,
                   help="folder with the MNIST IDX files (default: the folder the network records)")
    p.add_argument("--split", choices=SPLITS, default=defaults.SPLIT,
                   help="which samples of the dataset: held-out test, train or all (default %(default)s)")
    p.add_argument("--samples", type=int, metavar="N", default=defaults.SAMPLES,
                   help="simulate the first N samples (default: all of the split)")
    p.add_argument("--inputs", metavar="X.npy", default=None,
                   help="samples as a (N, d) array in a .npy file instead of --dataset "
                        "(for NIR graphs from other tools; default: none)")
    p.add_argument("--timesteps", "-T", type=int, default=defaults.TIMESTEPS, metavar="T",
                   help="simulation steps T, at least the network depth (default %(default)s)")
    p.add_argument("--dt", type=float, metavar="SECONDS", default=None,
                   help=f"time step in seconds for a NIR graph that states none "
                        f"(default: the graph's, else {defaults.DT_S:g}; snnTorch graphs: 1e-4)")
    p.add_argument("--input-encoding", choices=("current", "regular", "bernoulli"), default=None,
                   help="input encoding for a NIR graph from another tool (default: current, the analog value)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the stochastic (bernoulli) input encoding (default %(default)s)")


def add_scale_options(p) -> None:
    """Options that place a simulation: torch device and precision, Dask workers or scheduler."""
    p.add_argument("--device", default=None, metavar="DEVICE",
                   help="torch backend: cpu, cuda or cuda:N (default: cpu)")
    p.add_argument("--dtype", choices=("float64", "float32"), default=None,
                   help="torch backend arithmetic; float64 matches the reference engine (default: float64)")
    p.add_argument("--workers", type=int, metavar="N", default=None,
                   help="shard the samples over a local Dask cluster of N worker processes "
                        "(reference or torch backend; default: one process, no cluster)")
    p.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="shard the samples over an existing Dask cluster, e.g. tcp://host:8786 (default: none)")


def scale_options(args) -> dict[str, Any]:
    """The backend options :func:`add_scale_options` gave, checked against ``args.backend``."""
    options: dict[str, Any] = {}
    for name in ("device", "dtype"):
        value = getattr(args, name, None)
        if value is not None:
            if args.backend != "torch":
                raise ValidationError(f"--{name} applies to --backend torch, not {args.backend}")
            options[name] = value
    if getattr(args, "workers", None) is not None:
        if args.workers <= 0:
            raise ValidationError(f"--workers must be a positive number of processes, got {args.workers}")
        options["workers"] = args.workers
    if getattr(args, "scheduler", None) is not None:
        options["scheduler"] = args.scheduler
    return options


def run(args) -> int:
    options = parse_backend_options(args.backend_option)
    options.update(scale_options(args))
    result = record_from_args(args.network, args, backend=args.backend, progress=True, **options)
    record = result.record
    json_path, npz_path = result.save(args.out)
    print(human(record))
    print(f"wrote {json_path} and {npz_path}")
    if args.profile:
        from neurosim.pipeline import estimate, report

        estimates = estimate(result, args.profile, source=str(json_path.with_suffix("")))
        sys.stdout.write(report(estimates, args.report_format))
        report_json = estimates.save(json_path.with_name(json_path.stem + ".report.json"))
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


def record_from_args(path, args, *, backend: str = defaults.BACKEND, progress: bool = False, **backend_options: Any):
    """Simulate the NIR file ``path`` on the samples the options of :func:`add_input_options` pick."""
    from neurosim.pipeline import simulate

    if args.samples is not None and args.samples <= 0:
        raise ValidationError(f"--samples must be positive, got {args.samples}")
    if args.inputs and args.dataset:
        raise ValidationError("give either --inputs or --dataset, not both")
    return simulate(path, args.inputs, args.dataset, args.split, args.samples, args.timesteps, backend,
                    data_dir=args.data_dir, seed=args.seed, dt_s=args.dt, input_encoding=args.input_encoding,
                    progress=progress, **backend_options)


def human(record) -> str:
    s = record.summary()
    n = record.num_samples
    where = f" from {record.info['data_dir']}" if record.info.get("data_dir") else ""
    lines = [f"simulated {record.info.get('network_file')} on {record.backend}: {n} {record.info.get('dataset')} "
             f"{record.info.get('split')} samples{where} x T={record.timesteps} steps in {record.wall_time_s:.2f} s"]
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
    macs = (record.info.get("ann_macs") or {}).get("effective")
    lines.append(f"  per inference: {s['spikes_per_inference']:.0f} spikes, {s['synaptic_ops_per_inference']:.0f} "
                 f"synaptic ops ({per_layer})" + ("" if macs is None else f"; the ANN's effective MACs {macs:.0f}"))
    for f in record.info.get("fidelity", []):
        line = (f"  {f['layer']}: active fraction {f['snn_active_fraction']:.3f} "
                f"(ANN {f['ann_active_fraction']:.3f})")
        if "rate_activation_correlation" in f:
            line += f", rate/activation correlation r={f['rate_activation_correlation']:.3f}"
        lines.append(line)
    return "\n".join(lines)
