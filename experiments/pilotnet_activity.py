"""Per-layer activity of Intel's PilotNet LIF network on Loihi 2, from lava-dl's own simulation.

The validation case ``loihi2_pilotnet_lif_lavadl2023`` (neurosim/hardware/validation.py) rebuilds
the workload of Intel's recorded Loihi 2 benchmark of this network (lava-dl,
``tutorials/lava/lib/dl/netx/pilotnet_snn/benchmark.ipynb``). Its activity comes from the spike
trains that lava-dl publishes as the network's ground truth (``tests/lava/lib/dl/netx/gts/
pilotnet_lif/``: the input layer's and every layer's spikes, 24 steps, with the 16-step reset
of the benchmark; the network file there is byte-identical to the benchmark's ``network.net``).
This script derives the counts the case embeds, for one inference (16 steps, steps 8-23: one
whole reset period after the pipeline has filled):

* spikes of each layer;
* synapses of each layer (a 3 x 3 convolution's valid taps x input channels per output);
* synaptic events delivered into each layer, ``sum_t sum_i s_i(t) f_i`` with ``f_i`` the fan-out
  of input ``i`` (output positions whose receptive field covers it x output channels).

    python experiments/pilotnet_activity.py LAVA_DL_CHECKOUT

Layer geometry (lava-dl prints it in the benchmark; (W, H, C), kernel 3 x 3):
input 200x66x3 (LIF neurons on the chip, driven by the image as bias); conv 99x32x24 (stride 2, 2),
49x15x36 (2, 2), 24x7x48 (2, 2), 22x4x64 (stride 1, 2; padding 0, 1), 20x2x64 (1, 1); dense 100,
50, 10, 1.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

GTS = Path("tests/lava/lib/dl/netx/gts/pilotnet_lif")
#: spike files in network order; arrays are (W, H, C, steps)
LAYERS = ("input", "conv-0", "conv-1", "conv-2", "conv-3", "conv-4", "fc-0", "fc-1", "fc-2")
#: stride (x, y) and padding (x, y) of each convolution
CONVS = {"conv-0": ((2, 2), (0, 0)), "conv-1": ((2, 2), (0, 0)), "conv-2": ((2, 2), (0, 0)),
         "conv-3": ((1, 2), (0, 1)), "conv-4": ((1, 1), (0, 0))}
WINDOW = slice(8, 24)
KERNEL = 3


def fan_out(in_wh: tuple[int, int], out_whc: tuple[int, int, int], stride: tuple[int, int],
            pad: tuple[int, int]) -> np.ndarray:
    """Outputs each input position reaches in a 3 x 3 convolution: (W_in, H_in) counts x C_out."""
    f = np.zeros(in_wh)
    wo, ho, co = out_whc
    for x in range(wo):
        for y in range(ho):
            x0, y0 = x * stride[0] - pad[0], y * stride[1] - pad[1]
            xs = slice(max(x0, 0), min(x0 + KERNEL, in_wh[0]))
            ys = slice(max(y0, 0), min(y0 + KERNEL, in_wh[1]))
            f[xs, ys] += 1
    return f * co


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("lava_dl", type=Path, help="a lava-dl checkout (its tests/ folder holds the spike files)")
    args = ap.parse_args()
    spikes = {n: np.load(args.lava_dl / GTS / f"{n}.npy")[..., WINDOW].astype(np.float64) for n in LAYERS}
    print(f"input: {spikes['input'][..., 0].size} neurons, {int(spikes['input'].sum())} spikes")
    print("layer, neurons, synapses, synaptic events, spikes in, spikes out")
    for prev, name in zip(LAYERS, LAYERS[1:]):
        s_in, s_out = spikes[prev], spikes[name]
        n_out = int(np.prod(s_out.shape[:-1]))
        if name in CONVS:
            f = fan_out(s_in.shape[:2], s_out.shape[:3], *CONVS[name])
            events = float((s_in.sum(-1) * f[:, :, None]).sum())
            synapses = int(f.sum() * s_in.shape[2])
        else:
            events = float(s_in.sum() * n_out)
            synapses = int(np.prod(s_in.shape[:-1])) * n_out
        print(f'("{name}", {n_out}, {synapses}, {events:.0f}, {s_in.sum():.0f}, {s_out.sum():.0f}),')
    # the 10 -> 1 output layer does not spike (its file fc-3-s.npy holds output values): events only
    s_last = spikes[LAYERS[-1]].sum()
    print(f'("fc-3", 1, {spikes[LAYERS[-1]][..., 0].size}, {s_last:.0f}, {s_last:.0f}, 0),')


if __name__ == "__main__":
    main()
