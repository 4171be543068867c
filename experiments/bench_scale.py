"""Scaling benchmark: the same spiking networks and inputs on every engine, one process each.

Networks: random-sparse ``d-H-d`` autoencoders (an ``nn.Sequential`` of ``Linear(d, H)``, ReLU,
``Linear(H, d)``, sigmoid; PyTorch's default initialisation, a random fraction ``density``
of each weight matrix kept) converted to rate-coded spiking networks with neurosim's
converter (calibrated on the first 1,000 inputs), written to NIR and read back by every
engine. Inputs: MNIST images (``--data-dir``) for ``d = 784``, scikit-learn's 8x8 digits
(repeated to the sample count) for ``d = 64``.

Engines, each in its own subprocess (so its peak resident memory is its own):

* ``reference``: neurosim's numpy engine (compiled scatter kernels, chunks on every core);
* ``torch``: neurosim's PyTorch backend, float64 (``torch32``: float32);
* ``snntorch`` (every core) and ``snntorch1`` (one thread): the network as snnTorch users
  write it -- ``nn.Linear`` layers and ``snn.Leaky(beta=1, threshold=1,
  reset_mechanism='subtract')`` neurons, float32, dense, run step by step on batches of 1,000
  (the same weights and input spike trains; snnTorch has no synaptic delay, so its spike
  counts are close to but not those of neurosim);
* ``brian2`` (numpy target), ``brian2cython`` and ``lava``: neurosim's backends, after an
  untimed first run, on a few samples (``--peer-samples``, per size ``--peer-samples-at``:
  1,000 on 64-1024-64), and a fifth of them: the time per sample is the marginal one,
  start-up not charged; on the sizes of ``--peer-sizes``, where they finish within
  ``--peer-timeout``.

Each engine's imports (and the reference engine's compiled kernels) are loaded before its
clock starts and reported apart (``import_s``, ``kernel_warm_up_s``), as Brian2's and Lava's
start-up is. Every engine is timed in steady state: the reference engine, the torch backend and
snnTorch run the same samples twice in their process and the second run is timed (the first,
``first_run_s``, also pays the process's first touch of its memory and the allocator's warm-up:
0.01-0.6 s for the reference engine); Brian2 and Lava are timed after an untimed run.

Besides time it prints synaptic operations per second (the record's count:
spikes x nonzero outgoing synapses, for every engine the reference engine's count on the same
samples), peak memory, each engine's time relative to the fastest peer, the machine's
ceiling: the rate of the scatter-add kernel (one synaptic event = one ``out[j] += w``) and of
a dense float32 matrix product on this CPU, and per size the event-driven floor
(:func:`event_floor`): synaptic operations plus neuron updates per sample at that scatter-add
rate. The load average at the start and the end is printed and stored.

Usage::

    .venv/bin/python experiments/bench_scale.py --data-dir DIR [--samples 1000]
    .venv/bin/python experiments/bench_scale.py --data-dir DIR --mnist-run RUN   # + the trained MNIST net
    .venv/bin/python experiments/bench_scale.py --data-dir DIR --sizes "" --mnist-net NET.nir   # MNIST only

Writes ``results/bench_scale/bench_scale.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

#: name -> (inputs d, hidden H, weight density)
SIZES = {
    "64-1024-64": (64, 1024, 0.10),
    "784-1024-784": (784, 1024, 0.10),
    "784-4096-784": (784, 4096, 0.05),
    "784-16384-784": (784, 16384, 0.02),
}
ENGINES = ("reference", "torch", "torch32", "snntorch", "snntorch1", "brian2", "brian2cython", "lava")
PEERS = ("snntorch", "snntorch1", "brian2", "brian2cython", "lava")
#: engines with a start-up cost (code generation, process graphs) timed at two sample counts
SLOW_PEERS = ("brian2", "brian2cython", "lava")
#: torch intra-op threads per engine (None: every core)
THREADS = {"snntorch1": 1}


# ----------------------------------------------------------------------------- networks and inputs
def inputs_for(d: int, n: int, data_dir: str | None) -> np.ndarray:
    from neurosim.data import load_dataset

    if d == 64:
        x = load_dataset("digits", "all").x
    else:
        if not data_dir:
            raise SystemExit("784-input sizes need MNIST: give --data-dir DIR (or set NEUROSIM_MNIST_DIR)")
        x = load_dataset("mnist", "all", data_dir).x
    reps = -(-n // len(x))
    return np.tile(x, (reps, 1))[:n].astype(np.float64)


def random_sparse_network(d: int, hidden: int, density: float, x_cal: np.ndarray, seed: int = 0):
    """A random-sparse nn.Sequential d-H-d autoencoder, converted (rate coding)."""
    from converters.ann_to_snn import AnnModel, convert

    rng = np.random.default_rng(seed)

    def linear(n_out: int, n_in: int):
        bound = 1.0 / np.sqrt(n_in)  # nn.Linear's default initialisation range
        w = rng.uniform(-bound, bound, (n_out, n_in)) * (rng.random((n_out, n_in)) < density)
        return w, rng.uniform(-bound, bound, n_out)

    (w1, b1), (w2, b2) = linear(hidden, d), linear(d, hidden)
    ann = AnnModel(["0", "2"], [w1, w2], [b1, b2], "sigmoid", {"model": "nn.Sequential"})
    return convert(ann, "rate", calibration_samples=x_cal)


# ----------------------------------------------------------------------------- one engine (subprocess)
def snntorch_run(net, x: np.ndarray, T: int, batch: int = 1000, threads: int | None = None) -> dict:
    """The network as an snnTorch model: dense float32 Linear + Leaky(beta=1) layers, step by step."""
    import snntorch as snn
    import torch
    from torch import nn

    torch.set_num_threads(threads or os.cpu_count() or 1)
    hidden, out = net.layers[1], net.layers[2]
    fc1, fc2 = nn.Linear(net.input_size, hidden.size), nn.Linear(hidden.size, out.size)
    with torch.no_grad():
        fc1.weight.copy_(torch.as_tensor(hidden.connection.dense()))
        fc1.bias.copy_(torch.as_tensor(hidden.connection.bias))
        fc2.weight.copy_(torch.as_tensor(out.connection.dense()))
        fc2.bias.copy_(torch.as_tensor(out.connection.bias))
    lif = snn.Leaky(beta=1.0, threshold=1.0, reset_mechanism="subtract")
    gain = float(np.asarray(net.layers[0].params["gain"]).ravel()[0])
    counts_in, counts_hid, outputs = [], [], []
    with torch.no_grad():
        for start in range(0, len(x), batch):
            xb = torch.as_tensor(x[start:start + batch] * gain, dtype=torch.float32)
            v_in = torch.full_like(xb, 0.5)
            mem = lif.init_leaky()
            acc = torch.zeros(xb.shape[0], out.size)
            c_in = torch.zeros_like(xb)
            c_hid = torch.zeros(xb.shape[0], hidden.size)
            for _ in range(T):
                v_in += xb  # the regular input encoding
                s_in = (v_in > 1.0).float()
                v_in -= s_in
                spk, mem = lif(fc1(s_in), mem)
                acc += fc2(spk)
                c_in += s_in
                c_hid += spk
            counts_in.append(c_in.numpy())
            counts_hid.append(c_hid.numpy())
            outputs.append(torch.sigmoid(acc / T).numpy())
    return {"counts": [np.concatenate(counts_in), np.concatenate(counts_hid)]}


def worker(args) -> int:
    """``--worker ENGINE``: load the network and inputs, time one run, print one JSON line."""
    from converters.nir_io import read_network

    from neurosim.backends import _kernels

    net = read_network(args.net)
    x = np.load(args.inputs)[:args.samples]
    engine = args.worker
    counts = None
    warm_up_s = _kernels.warm_up() if engine == "reference" else 0.0  # once per process, timed apart
    backend, options = {"torch32": ("torch", {"dtype": "float32"}),
                        "brian2cython": ("brian2", {"target": "cython"})}.get(engine, (engine, {}))
    import_start = time.perf_counter()  # the engine's imports, once per process, timed apart too
    if engine.startswith("snntorch"):
        import snntorch  # noqa: F401
    else:
        from neurosim.backends import get_backend

        get_backend(backend)
    import_s = time.perf_counter() - import_start
    walls = []
    for _ in range(max(1, args.repeat)):  # the same run again: the first pays the process's first touches
        start, cpu_start = time.perf_counter(), time.process_time()
        if engine.startswith("snntorch"):
            res = snntorch_run(net, x, args.timesteps, threads=THREADS.get(engine))
            walls.append(time.perf_counter() - start)
            counts = res["counts"]
            ops = updates = None
        else:
            from neurosim.backends import simulate

            rec = simulate(net, x, args.timesteps, backend=backend, **options)
            walls.append(time.perf_counter() - start)
            counts = [layer.spike_counts for layer in rec.layers[:2]]
            ops = rec.synaptic_ops
            updates = sum(layer.neuron_updates for layer in rec.layers)
        cpu = time.process_time() - cpu_start  # all threads: time on an idle machine is about cpu / cores
    wall = walls[-1]
    if args.save:
        np.savez_compressed(args.save, **{f"layer{i}": c for i, c in enumerate(counts)})
    peak = peak_rss_bytes()
    print(json.dumps({"engine": engine, "samples": len(x), "time_s": wall, "first_run_s": walls[0], "runs": len(walls),
                      "cpu_s": cpu, "synaptic_ops": ops,
                      "neuron_updates": updates, "peak_rss_bytes": peak, "kernel_warm_up_s": warm_up_s,
                      "import_s": import_s}))
    return 0


def peak_rss_bytes() -> int:
    """This process's peak resident memory: ``VmHWM`` (Linux), which starts afresh at exec.

    ``getrusage``'s ``ru_maxrss`` is kept across exec, so a worker would report the parent's
    peak (the benchmark holds every network) when its own is lower; it is the fallback only.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_engine(engine: str, net_path: Path, x_path: Path, samples: int, T: int, timeout: float,
               save: Path | None = None, repeat: int = 1) -> dict:
    """One engine on ``samples`` samples in a fresh process, run ``repeat`` times: ``time_s`` is the last
    run's, ``first_run_s`` the first's (it also pays the process's first touch of its memory)."""
    cmd = [sys.executable, __file__, "--worker", engine, "--net", str(net_path), "--inputs", str(x_path),
           "--samples", str(samples), "--timesteps", str(T), "--repeat", str(repeat)]
    if save is not None:
        cmd += ["--save", str(save)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"engine": engine, "samples": samples, "error": f"did not finish within {timeout:.0f} s"}
    lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
    if proc.returncode or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"engine": engine, "samples": samples, "error": tail[:200]}
    return json.loads(lines[-1])


def run_peer(engine: str, net_path: Path, x_path: Path, samples: int, T: int, timeout: float) -> dict:
    """A peer with a start-up cost, timed on ``samples // 5`` and ``samples`` samples.

    Its time per sample is the marginal one, ``(t(n) - t(n/5)) / (n - n/5)``: code generation
    and process start-up are not charged to the samples (in its favour). An untimed run on
    ``samples // 5`` samples comes first, so that both timed runs find the code Brian2's cython
    target generates for this network already compiled in its on-disk cache.
    """
    few = max(1, samples // 5)
    warm = run_engine(engine, net_path, x_path, few, T, timeout)
    if "error" in warm:
        return warm
    first = run_engine(engine, net_path, x_path, few, T, timeout)
    row = run_engine(engine, net_path, x_path, samples, T, timeout)
    if "time_s" in first and "time_s" in row:
        if row["time_s"] <= first["time_s"]:
            return {"engine": engine, "samples": samples, "error": f"no marginal time: {samples} samples took "
                    f"{row['time_s']:.2f} s, {few} took {first['time_s']:.2f} s"}
        row["startup_s"] = max(0.0, first["time_s"] - few * (row["time_s"] - first["time_s"]) / (samples - few))
        row["time_per_sample_s"] = (row["time_s"] - first["time_s"]) / (samples - few)
        row["first_run_s"] = warm["time_s"]  # with code generation when the cache was cold
    return row


# ----------------------------------------------------------------------------- the machine's ceiling
def ceiling(seconds: float = 1.0) -> dict:
    """Scatter-add rate of the engine's kernel (1 thread and all cores) and dense float32 GEMM rate."""
    from concurrent.futures import ThreadPoolExecutor

    import scipy.sparse as sp
    import torch

    from neurosim.backends import _kernels

    rng = np.random.default_rng(0)
    C, n_in, n_out = 128, 784, 16384
    w = sp.random(n_in, n_out, density=0.02, format="csr", random_state=0)
    w.sort_indices()
    m = sp.csr_matrix((rng.random((C, n_in)) < 0.1).astype(np.float64))
    args = (m.indptr.astype(np.int64), m.indices.astype(np.int64), m.data, w.indptr.astype(np.int64),
            w.indices.astype(np.int32), w.data)
    events = int(np.diff(w.indptr)[m.indices].sum())
    marks = np.zeros((1, 1), dtype=np.uint8)

    def one(out):
        return _kernels.scatter(*args, out, marks, False)

    outs = [np.zeros((C, n_out)) for _ in range(os.cpu_count() or 1)]
    one(outs[0])
    reps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        one(outs[0])
        reps += 1
    single = events * reps / (time.perf_counter() - start)
    with ThreadPoolExecutor(len(outs)) as pool:
        reps, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            list(pool.map(one, outs))
            reps += len(outs)
        multi = events * reps / (time.perf_counter() - start)
    torch.set_num_threads(os.cpu_count() or 1)
    a, b = torch.rand(512, 784), torch.rand(784, 4096)
    a @ b
    reps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        reps += 1
    gemm = 512 * 784 * 4096 * reps / (time.perf_counter() - start)
    return {"scatter_add_per_s_1_thread": single, "scatter_add_per_s_all_cores": multi,
            "dense_f32_mac_per_s": gemm, "cores": os.cpu_count()}


# ----------------------------------------------------------------------------- main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=os.environ.get("NEUROSIM_MNIST_DIR"),
                    help="folder with the MNIST IDX files (default: $NEUROSIM_MNIST_DIR)")
    ap.add_argument("--sizes", default=",".join(SIZES), help="comma-separated names of SIZES")
    ap.add_argument("--engines", default=",".join(ENGINES))
    ap.add_argument("--samples", type=int, default=1000, help="samples of the comparison runs")
    ap.add_argument("--peer-samples", type=int, default=100,
                    help="samples for brian2 and lava (also timed on a fifth of them: marginal time per sample)")
    ap.add_argument("--peer-sizes", default="64-1024-64,784-1024-784", help="sizes brian2 and lava run on")
    ap.add_argument("--peer-samples-at", default="64-1024-64:1000",
                    help="NAME:N,... peer samples for these sizes instead of --peer-samples (64-1024-64: a sample "
                         "costs the peers a few ms, so 20 and 100 samples differ by less than their start-up "
                         "varies; its 1,000 samples still run as one chunk)")
    ap.add_argument("--torch-samples", type=int, default=300, help="samples of the torch backend runs")
    ap.add_argument("--peer-timeout", type=float, default=300.0, help="seconds before a peer run is given up")
    ap.add_argument("--big-samples", type=int, default=10000,
                    help="samples of the largest network's run on the fastest engine (0: skip)")
    ap.add_argument("--timesteps", "-T", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=2,
                    help="runs of each comparison in its process, the last one timed (the first is reported as "
                         "first_run_s): Brian2 and Lava are timed after an untimed run too")
    ap.add_argument("--mnist-run", help="training run folder with sparse.pt (neurosim train --dataset mnist "
                                        "--hidden 256): also time MNIST t10k at T=64")
    ap.add_argument("--mnist-net", help="the same network already converted to NIR (instead of --mnist-run)")
    ap.add_argument("--out", default=str(ROOT / "results" / "bench_scale"))
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--net", help=argparse.SUPPRESS)
    ap.add_argument("--inputs", help=argparse.SUPPRESS)
    ap.add_argument("--save", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args)

    from converters.nir_io import write_network
    from neurosim.provenance import git_commit

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    engines = [e for e in args.engines.split(",") if e]
    T = args.timesteps
    result = {"commit": git_commit(), "cores": os.cpu_count(), "timesteps": T, "samples": args.samples,
              "load_average_start": os.getloadavg(), "ceiling": ceiling(), "sizes": {}}
    c = result["ceiling"]
    print(f"load average at the start: {' '.join(f'{v:.2f}' for v in result['load_average_start'])}")
    print(f"machine ceiling ({c['cores']} cores): scatter-add {c['scatter_add_per_s_1_thread'] / 1e6:.0f} M/s on "
          f"1 thread, {c['scatter_add_per_s_all_cores'] / 1e6:.0f} M/s on all; dense float32 "
          f"{c['dense_f32_mac_per_s'] / 1e9:.1f} G MAC/s")
    for name in [s for s in args.sizes.split(",") if s]:
        d, hidden, density = SIZES[name]
        x = inputs_for(d, max(args.samples, args.big_samples if name == "784-16384-784" else 0, 1000),
                       args.data_dir)
        t0 = time.perf_counter()
        net = random_sparse_network(d, hidden, density, x[:1000])
        net_path, x_path = out / f"{name}.nir", out / f"{name}.inputs.npy"
        write_network(net, net_path)
        np.save(x_path, x)
        build_s = time.perf_counter() - t0
        rows = {}
        for engine in engines:
            if engine in SLOW_PEERS:
                if name in args.peer_sizes.split(","):
                    peer_n = dict((k, int(v)) for k, v in (p.split(":") for p in args.peer_samples_at.split(",") if p))
                    rows[engine] = run_peer(engine, net_path, x_path, peer_n.get(name, args.peer_samples), T,
                                            args.peer_timeout)
                continue
            n = {"torch": args.torch_samples, "torch32": args.torch_samples}.get(engine, args.samples)
            save = out / f"{name}.{engine}.counts.npz"
            rows[engine] = run_engine(engine, net_path, x_path, n, T, 3600, save, repeat=args.repeat)
        ref = rows.get("reference", {})
        per_sample_ops = (ref.get("synaptic_ops") or 0) / max(ref.get("samples", 1), 1)
        per_sample_updates = (ref.get("neuron_updates") or 0) / max(ref.get("samples", 1), 1)
        for engine, row in rows.items():
            if "time_s" in row:
                row.setdefault("time_per_sample_s", row["time_s"] / row["samples"])
                row["synaptic_ops_per_s"] = per_sample_ops / row["time_per_sample_s"]
        agreement = float32_agreement(out, name)
        fastest_peer = min((rows[p]["time_per_sample_s"] for p in PEERS if "time_per_sample_s" in rows.get(p, {})),
                           default=None)
        ours = min((rows[e]["time_per_sample_s"] for e in ("reference", "torch") if "time_per_sample_s" in
                    rows.get(e, {})), default=None)
        result["sizes"][name] = {"inputs": d, "hidden": hidden, "density": density, "build_s": build_s,
                                 "synaptic_ops_per_sample": per_sample_ops,
                                 "neuron_updates_per_sample": per_sample_updates,
                                 "event_floor_s": event_floor(per_sample_ops, per_sample_updates, c), "engines": rows,
                                 "float32_agreement": agreement,
                                 "speedup_vs_peer": {p: rows[p]["time_per_sample_s"] / ours for p in PEERS
                                                     if ours and "time_per_sample_s" in rows.get(p, {})}}
        print_size(name, density, rows, fastest_peer, per_sample_ops, c, agreement)
        print_floor(result["sizes"][name], rows)
        if name == "784-16384-784" and args.big_samples:
            best = min(("reference", "torch"), key=lambda e: rows.get(e, {}).get("time_per_sample_s", np.inf))
            big = run_engine(best, net_path, x_path, args.big_samples, T, 3600)
            small = result["sizes"].get("784-1024-784", {}).get("engines", {})
            big_ref = run_engine("reference", out / "784-1024-784.nir", out / "784-1024-784.inputs.npy",
                                 args.samples, T, 3600, repeat=args.repeat) if "784-1024-784" in result["sizes"] else {}
            result["large"] = {"engine": best, **big, "rate_784_1024": big_ref}
            print_large(big, big_ref, small)
    if args.mnist_run or args.mnist_net:
        result["mnist"] = mnist_t10k(Path(args.mnist_run) if args.mnist_run else None, args.data_dir, out,
                                     Path(args.mnist_net) if args.mnist_net else None)
    result["summary"] = summary(result)
    result["load_average_end"] = os.getloadavg()
    print(f"load average at the end: {' '.join(f'{v:.2f}' for v in result['load_average_end'])}")
    (out / "bench_scale.json").write_text(json.dumps(result, indent=2, default=float))
    print(f"wrote {out / 'bench_scale.json'}")
    return 0


def summary(result: dict) -> dict:
    """The figures experiments/targets.toml checks (section ``scale``): worst case over the sizes."""
    out: dict = {}
    for peer in PEERS:
        ratios = [size["speedup_vs_peer"][peer] for size in result["sizes"].values()
                  if peer in size["speedup_vs_peer"]]
        if ratios:
            out[f"min_speedup_vs_{peer}"] = min(ratios)
    snn = [min(v for k, v in size["speedup_vs_peer"].items() if k.startswith("snntorch"))
           for size in result["sizes"].values() if any(k.startswith("snntorch") for k in size["speedup_vs_peer"])]
    if snn:
        out["min_speedup_vs_fastest_snntorch"] = min(snn)
    large = result.get("large", {})
    if "time_s" in large:
        out["large_peak_rss_gb"] = large["peak_rss_bytes"] / 2 ** 30
        ref = large.get("rate_784_1024", {})
        if "time_s" in ref:
            out["large_rate_ratio_to_784_1024"] = (ref["synaptic_ops"] / ref["time_s"]) / (
                large["synaptic_ops"] / large["time_s"])
    mnist = result.get("mnist", {}).get("engines", {}).get("reference", {})
    if "time_s" in mnist:
        out["mnist_t10k_t64_s"] = mnist["time_s"]
    return out


def event_floor(ops: float, updates: float, c: dict) -> dict:
    """Time per sample of an engine doing one scatter-add per synaptic operation and per neuron update.

    ``(E + U) / r``: ``E`` synaptic operations and ``U`` neuron updates per sample, ``r`` the
    scatter-add rate of this CPU (one thread, all cores): the floor of an event-driven simulator
    that touches every synaptic event and every neuron once per step at that rate.
    """
    work = ops + updates
    return {"one_thread": work / c["scatter_add_per_s_1_thread"], "all_cores": work / c["scatter_add_per_s_all_cores"]}


def print_floor(size: dict, rows: dict) -> None:
    floor = size["event_floor_s"]
    line = (f"  event-driven floor at the scatter-add rate: {size['synaptic_ops_per_sample'] / 1e3:.1f} k synaptic ops + "
            f"{size['neuron_updates_per_sample'] / 1e3:.1f} k neuron updates per sample -> "
            f"{1e3 * floor['one_thread']:.3f} ms on one thread, {1e3 * floor['all_cores']:.3f} ms on all cores")
    peer = rows.get("brian2cython", {})
    if "time_per_sample_s" in peer:
        line += f"; Brian2 cython / floor (all cores) = {peer['time_per_sample_s'] / floor['all_cores']:.1f}x"
    print(line)


def float32_agreement(out: Path, name: str) -> dict | None:
    """Hidden-layer spike counts of torch float32 vs the reference engine on the same samples."""
    a, b = out / f"{name}.reference.counts.npz", out / f"{name}.torch32.counts.npz"
    if not (a.is_file() and b.is_file()):
        return None
    with np.load(a) as ra, np.load(b) as rb:
        n = min(len(ra["layer1"]), len(rb["layer1"]))  # the same first samples
        ref, f32 = ra["layer1"][:n].astype(np.int64), rb["layer1"][:n].astype(np.int64)
    diff = np.abs(ref - f32)
    return {"identical_fraction": float((diff == 0).mean()), "max_abs_diff": int(diff.max()),
            "total_spikes_rel_diff": float(abs(f32.sum() - ref.sum()) / max(ref.sum(), 1))}


def print_size(name, density, rows, fastest_peer, per_sample_ops, c, agreement) -> None:
    print(f"\n{name} (weight density {density:g}), {per_sample_ops / 1e6:.2f} M synaptic ops per sample:")
    print(f"  {'engine':10s} {'samples':>7s} {'time s':>8s} {'first s':>8s} {'ms/sample':>10s} {'M ops/s':>8s} "
          f"{'peak GB':>8s} {'x peer':>7s} {'of ceiling':>10s}")
    for engine, row in rows.items():
        if "error" in row:
            print(f"  {engine:10s} {row['samples']:7d}  -- {row['error']}")
            continue
        ratio = fastest_peer / row["time_per_sample_s"] if fastest_peer else float("nan")
        frac = row["synaptic_ops_per_s"] / c["scatter_add_per_s_all_cores"]
        print(f"  {engine:10s} {row['samples']:7d} {row['time_s']:8.2f} {row.get('first_run_s', float('nan')):8.2f} "
              f"{1e3 * row['time_per_sample_s']:10.3f} "
              f"{row['synaptic_ops_per_s'] / 1e6:8.0f} {row['peak_rss_bytes'] / 2**30:8.2f} {ratio:7.1f} {frac:10.3f}")
    if agreement:
        print(f"  torch float32 vs reference (hidden counts): {100 * agreement['identical_fraction']:.2f} % identical, "
              f"max difference {agreement['max_abs_diff']}, total spikes differ by "
              f"{100 * agreement['total_spikes_rel_diff']:.3f} %")


def print_large(big: dict, big_ref: dict, small: dict) -> None:
    if "error" in big:
        print(f"\n784-16384-784 x {big['samples']}: {big['error']}")
        return
    rate = big["synaptic_ops"] / big["time_s"]
    line = (f"\n784-16384-784, {big['samples']} samples on {big['engine']}: {big['time_s']:.1f} s, "
            f"{rate / 1e6:.0f} M synaptic ops/s, peak {big['peak_rss_bytes'] / 2**30:.2f} GB (target < 2 GB)")
    if "time_s" in big_ref:
        ref_rate = big_ref["synaptic_ops"] / big_ref["time_s"]
        line += (f"; 784-1024-784 x {big_ref['samples']}: {ref_rate / 1e6:.0f} M/s -> ratio "
                 f"{ref_rate / rate:.2f} (target <= 2)")
    print(line)


def mnist_t10k(run: Path | None, data_dir: str | None, out: Path, nir: Path | None = None) -> dict:
    """MNIST t10k through the trained sparse 784-256-784 network, T=64, on the reference engine.

    The network is converted from the training run's ``sparse.pt`` (rate coding), or read from
    ``nir`` when that conversion was already done.
    """
    from converters.nir_io import read_network, write_network

    if nir is not None:
        net, path = read_network(nir), nir
    else:
        from converters.ann_to_snn import convert_file

        net, _ = convert_file(run / "sparse.pt", "rate", dataset="mnist", data_dir=data_dir)
        path = out / "mnist256.nir"
        write_network(net, path)
    x = inputs_for(784, 10000, data_dir)
    np.save(out / "mnist256.inputs.npy", x)
    rows = {}
    for engine in ("reference",):
        rows[engine] = run_engine(engine, path, out / "mnist256.inputs.npy", 10000, 64, 900)
    shape = "-".join(str(l.size) for l in net.layers)
    density = sum(l.connection.nonzero_synapses for l in net.layers[1:]) / sum(
        np.prod(l.connection.shape) for l in net.layers[1:])
    print(f"\nMNIST t10k, trained sparse {shape} (weight density {density:.3f}), T=64:")
    for engine, row in rows.items():
        if "error" in row:
            print(f"  {engine}: {row['error']}")
        else:
            print(f"  {engine}: {row['time_s']:.2f} s (target <= 3 s; {row['cpu_s']:.2f} s of CPU), "
                  f"{row['synaptic_ops'] / row['time_s'] / 1e6:.0f} M synaptic ops/s, "
                  f"peak {row['peak_rss_bytes'] / 2**30:.2f} GB")
    return {"network": shape, "density": density, "engines": rows}


if __name__ == "__main__":
    sys.exit(main())
