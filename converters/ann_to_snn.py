"""ANN-to-SNN conversion: a feed-forward Linear/ReLU network becomes a :class:`SpikingNetwork`.

Sources
-------
* neurosim autoencoder checkpoints (:mod:`neurosim.checkpoint`): ``encoder`` then ``decoder``;
  the sparse model's learned gate threshold ``theta`` becomes a negative bias
  (``b_enc - theta``), so a hidden neuron whose drive stays under its gate receives a net
  negative current and stays silent: the gate is reproduced by local neuron dynamics.
* plain PyTorch state dicts of ``nn.Linear`` layers with ReLU between them (for example an
  ``nn.Sequential`` autoencoder saved with ``torch.save(model.state_dict())``). Layer order is
  the order of the keys (``nn.Module`` registration order) unless ``layers`` names it; a key
  that is not the ``weight``/``bias`` of a 2-D linear layer (a convolution, a batch norm, ...)
  is an unsupported layer and a one-line :class:`ConversionError` names it. The output
  nonlinearity is not in a state dict: ``output_activation`` (default ``'sigmoid'``).

Data-based normalisation (Rueckauer et al. 2017, "Conversion of continuous-valued deep networks
to efficient event-driven networks for image classification", Front. Neurosci. 11:682)
-----------------------------------------------------------------------------------------
Each layer ``l`` gets a scale ``lambda_l``: the ``percentile`` (default 99.9) of its positive
activations on calibration data (``lambda_0`` for the input values). Weights and biases are
rescaled so that the spiking layer sees activations ``a_l / lambda_l``, which a rate code can
represent as a firing rate in [0, 1] (values above the percentile saturate)::

    W'_l = W_l * lambda_{l-1} / lambda_l,    b'_l = b_l / lambda_l,    v_threshold = 1

ReLU commutes with positive scaling, so the rescaled ANN computes the same function; the
readout layer keeps ``lambda_L = 1`` (``W'_L = W_L * lambda_{L-1}``, ``b'_L = b_L``). The
statistics come from the checkpoint's stored ``calibration`` (percentiles interpolated
linearly between the stored levels) or, with ``calibration=N`` samples, from the dataset.

Codings
-------
``rate``
    input ``regular`` (deterministic, ``v_init = 0.5``) or ``bernoulli`` spike trains with rate
    ``x / lambda_0``; hidden layers integrate-and-fire, reset by subtraction, threshold 1,
    ``v_init = 0.5`` (half a threshold: the spike count rounds the integrated input instead
    of truncating it); the output is a non-spiking ``readout`` that accumulates its input
    over its window, ``y = sigmoid(acc / T_l)`` (``decode='mean'``). Precision of a rate
    ``~ 1 / T``.
``graded``
    input ``graded`` (one payload per nonzero pixel at step 0); hidden layers ``sigma_delta``
    with integer payloads: ``payload_step = 1 / (2**payload_bits - 1)`` in units of the
    layer's scale (so a payload is an integer ``q`` times the step, ``q <= 2**bits - 1`` up to
    the calibration percentile; the few larger activations need more bits, reported as
    ``max_payload_int`` in the metadata) and ``v_threshold = payload_step / 2`` (emit when the
    change rounds to at least one step). For a static input each active neuron sends one
    graded spike, so synaptic operations equal the ANN's effective MACs. Output: ``readout``
    with ``decode='sum'``, ``y = sigmoid(sigma + b)``.

The ANN is kept reproducible from the spiking network alone: :func:`ann_forward_from_network`
evaluates ``relu`` layers on the (rescaled) weights of a converted network, which by the
scaling argument above equals the source ANN's output (metadata ``ann_equivalent``).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from neurosim import defaults
from neurosim.errors import CheckpointError, ConversionError, ValidationError
from neurosim.mathutil import OUTPUT_ACTIVATIONS, output_activation
from neurosim.network import Connection, Layer, SpikingNetwork

CODINGS = ("rate", "graded")
INPUT_ENCODINGS = {"rate": ("regular", "bernoulli"), "graded": ("graded",)}
DEFAULT_PERCENTILE = defaults.CALIBRATION_PERCENTILE
DEFAULT_PAYLOAD_BITS = defaults.PAYLOAD_BITS
CONVERTER_VERSION = 1


@dataclass
class AnnModel:
    """A feed-forward ANN: ``a_l = relu(W_l a_{l-1} + b_l)``, output ``activation(W_L a + b_L)``.

    ``weights[l]`` has shape (n_out, n_in), float64; pruned synapses are exact zeros. For a
    neurosim checkpoint the gate threshold is already folded into ``biases[0]``.
    """

    names: list[str]
    weights: list[np.ndarray]
    biases: list[np.ndarray]
    output_activation: str = "sigmoid"
    source: dict[str, Any] = field(default_factory=dict)
    calibration: dict[str, Any] | None = None  # stored statistics (neurosim checkpoints)
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def input_dim(self) -> int:
        return int(self.weights[0].shape[1])

    def forward(self, x: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """Hidden activations (one array (N, n_l) per hidden layer) and the output (N, d_out)."""
        a = np.asarray(x, dtype=np.float64)
        hidden = []
        for w, b in zip(self.weights[:-1], self.biases[:-1]):
            a = np.maximum(a @ w.T + b, 0.0)
            hidden.append(a)
        z = a @ self.weights[-1].T + self.biases[-1]
        return hidden, output_activation(z, self.output_activation)


# ----------------------------------------------------------------------------------------
# loading


def load_ann(path: str | Path, layers: Sequence[str] | None = None,
             output_activation: str | None = None) -> AnnModel:
    """Read a neurosim checkpoint or a plain state dict of Linear layers into an :class:`AnnModel`."""
    from neurosim.checkpoint import is_neurosim_checkpoint, load_raw, validate_checkpoint

    path = Path(path)
    obj = load_raw(path)
    source = {"path": str(path.resolve()), "sha256": file_sha256(path)}
    if output_activation is not None and output_activation not in OUTPUT_ACTIVATIONS:
        raise ValidationError(f"output activation must be one of {', '.join(OUTPUT_ACTIVATIONS)}, "
                              f"got {output_activation!r}")
    if is_neurosim_checkpoint(obj):
        validate_checkpoint(obj, path)
        if layers is not None and list(layers) != ["encoder", "decoder"]:
            raise ConversionError(f"{path}: a neurosim checkpoint has layers encoder,decoder; got --layers "
                                  f"{','.join(layers)}")
        return _from_checkpoint(obj, path, source, output_activation)
    if isinstance(obj, dict) and not _tensor_dict(obj):
        for key in ("state_dict", "model_state_dict", "model"):
            if isinstance(obj.get(key), dict) and _tensor_dict(obj[key]):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not obj or not _tensor_dict(obj):
        raise ConversionError(f"{path}: neither a neurosim checkpoint nor a state dict of tensors "
                              f"(got {type(obj).__name__})")
    names, weights, biases = _linear_chain(obj, path, layers)
    source.update(format="state_dict", model="state_dict")
    return AnnModel(names, weights, biases, output_activation or "sigmoid", source, None, {})


def _from_checkpoint(obj: dict, path: Path, source: dict, output_activation: str | None) -> AnnModel:
    sd = obj["state_dict"]
    config = dict(obj["config"])
    masks = obj.get("masks") or {}

    def arr(key: str) -> np.ndarray:
        value = sd[key].detach().cpu().double().numpy()
        if key in masks:
            value = value * masks[key].cpu().numpy().astype(bool)
        return value

    w_enc, b_enc = arr("encoder.weight"), arr("encoder.bias")
    w_dec, b_dec = arr("decoder.weight"), arr("decoder.bias")
    gate = config.get("gate", "none")
    if gate == "threshold":
        b_enc = b_enc - arr("gate.threshold")
    elif gate not in ("none", None):
        raise ConversionError(f"{path}: gate {gate!r} cannot be reproduced by the converter "
                              "(supported: 'threshold', 'none')")
    act = output_activation or config.get("output_activation", "sigmoid")
    if act not in OUTPUT_ACTIVATIONS:
        raise ConversionError(f"{path}: unsupported output activation {act!r}")
    calibration = None
    cal = obj.get("calibration")
    if isinstance(cal, dict) and "percentiles" in cal and "hidden" in cal:
        calibration = {k: (np.asarray(v.cpu().numpy() if hasattr(v, "cpu") else v, dtype=np.float64)
                           if k in ("percentiles", "hidden", "input") else v) for k, v in cal.items()}
    source.update(format="neurosim.autoencoder", model=obj.get("model", "unknown"), gate=gate or "none")
    return AnnModel(["encoder", "decoder"], [w_enc, w_dec], [b_enc, b_dec], act, source, calibration, config)


def _tensor_dict(obj: dict) -> bool:
    import torch

    return bool(obj) and all(isinstance(v, torch.Tensor) for v in obj.values())


def _linear_chain(sd: dict, path: Path, order: Sequence[str] | None
                  ) -> tuple[list[str], list[np.ndarray], list[np.ndarray]]:
    groups: dict[str, dict[str, Any]] = {}
    for key, value in sd.items():
        prefix, _, leaf = key.rpartition(".")
        groups.setdefault(prefix, {})[leaf] = value
    for prefix, params in groups.items():
        name = prefix or "<root>"
        extra = sorted(set(params) - {"weight", "bias"})
        if extra:
            kind = "BatchNorm" if "running_mean" in extra else "a non-Linear layer"
            raise ConversionError(f"{path}: unsupported layer {name!r} ({kind}: has {', '.join(extra)}); "
                                  "only Linear layers with ReLU between them convert")
        if "weight" not in params:
            raise ConversionError(f"{path}: unsupported layer {name!r} (a bias without a weight)")
        w = params["weight"]
        if w.ndim != 2:
            kind = {1: "a per-feature scale (LayerNorm/BatchNorm?)", 3: "Conv1d",
                    4: "Conv2d"}.get(w.ndim, f"{w.ndim}-D")
            raise ConversionError(f"{path}: unsupported layer {name!r} ({kind}, weight shape {tuple(w.shape)}); "
                                  "only Linear layers convert")
        if 0 in w.shape or not w.is_floating_point():
            raise ConversionError(f"{path}: layer {name!r}: weight of shape {tuple(w.shape)} and dtype "
                                  f"{str(w.dtype).replace('torch.', '')}; expected a non-empty real float matrix")
        if "bias" in params and tuple(params["bias"].shape) != (w.shape[0],):
            raise ConversionError(f"{path}: layer {name!r}: bias shape {tuple(params['bias'].shape)} does not "
                                  f"match weight shape {tuple(w.shape)}")
    names = list(groups)
    if order is not None:
        order = [o.strip() for o in order if o.strip()]
        missing = [o for o in order if o not in groups]
        if missing:
            raise ConversionError(f"{path}: --layers names {missing[0]!r}, which is not a layer of the state dict "
                                  f"(layers: {', '.join(names)})")
        unused = [n for n in names if n not in order]
        if unused:
            raise ConversionError(f"{path}: layer {unused[0]!r} is not in --layers {','.join(order)}")
        names = list(order)
    if len(names) < 2:
        raise ConversionError(f"{path}: a spiking network needs at least 2 Linear layers (hidden and output), "
                              f"found {len(names)}")
    weights, biases = [], []
    for i, name in enumerate(names):
        w = sd[f"{name}.weight" if name else "weight"].detach().cpu().double().numpy()
        b_key = f"{name}.bias" if name else "bias"
        b = sd[b_key].detach().cpu().double().numpy() if b_key in sd else np.zeros(w.shape[0])
        if not (np.isfinite(w).all() and np.isfinite(b).all()):
            raise ConversionError(f"{path}: layer {name!r} contains NaN or infinite values")
        if i and w.shape[1] != weights[-1].shape[0]:
            raise ConversionError(f"{path}: layer {name!r} takes {w.shape[1]} inputs but {names[i - 1]!r} gives "
                                  f"{weights[-1].shape[0]}: layer order cannot be inferred, give it with --layers")
        weights.append(w)
        biases.append(b)
    return names, weights, biases


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, hex (recorded as the network's ``source_sha256``)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ----------------------------------------------------------------------------------------
# calibration


def calibration_scales(ann: AnnModel, percentile: float = DEFAULT_PERCENTILE,
                       samples: np.ndarray | None = None) -> dict[str, Any]:
    """Scales ``lambda_0 .. lambda_{L-1}`` (input, then each hidden layer) at ``percentile``.

    From ``samples`` (N, d) when given, else from the stored statistics (percentiles
    interpolated linearly between the stored levels). Also returns each layer's maximum
    (the 100th percentile), used for the graded payload range.
    """
    percentile = float(percentile)
    if not 0.0 < percentile <= 100.0:
        raise ValidationError(f"percentile must be in (0, 100], got {percentile:g}")
    if samples is not None:
        x = np.asarray(samples, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != ann.input_dim:
            raise ConversionError(f"calibration data has {x.shape[-1]} features but the network takes "
                                  f"{ann.input_dim} inputs (pick the matching --dataset)")
        hidden, _ = ann.forward(x)
        scales, maxima, notes = [], [], []
        for name, a in [("input", x)] + list(zip(ann.names[:-1], hidden)):
            pos = a[a > 0]
            if pos.size == 0:
                scales.append(1.0)
                maxima.append(1.0)
                notes.append(f"{name}: no positive activation on the calibration data, scale 1")
                continue
            scales.append(float(np.percentile(pos, percentile)))
            maxima.append(float(pos.max()))
        return {"source": "dataset", "percentile": percentile, "num_samples": int(x.shape[0]),
                "scales": scales, "max": maxima, "notes": notes}
    cal = ann.calibration
    if cal is None:
        raise ConversionError("the checkpoint holds no calibration statistics: pass --calibration N "
                              "(samples of --dataset to calibrate on)")
    if len(ann.weights) != 2:
        raise ConversionError("stored calibration covers one hidden layer; this network has "
                              f"{len(ann.weights) - 1}: pass --calibration N")
    levels = cal["percentiles"]
    if not (levels.min() <= percentile <= levels.max()):
        raise ConversionError(f"percentile {percentile:g} is outside the stored calibration levels "
                              f"{levels.min():g}..{levels.max():g}: pass --calibration N")
    order = np.argsort(levels)
    scales, maxima = [], []
    for key in ("input", "hidden"):
        values = cal.get(key)
        if values is None:
            if key == "input":  # pixels in [0, 1]: the input scale is their maximum
                scales.append(1.0)
                maxima.append(1.0)
                continue
            raise ConversionError(f"stored calibration lacks {key!r} statistics: pass --calibration N")
        values = np.asarray(values, dtype=np.float64)
        scale = float(np.interp(percentile, levels[order], values[order]))
        scales.append(scale if scale > 0 else 1.0)
        maxima.append(float(values[order][-1]) if levels[order][-1] == 100 else scale)
    return {"source": "checkpoint", "percentile": percentile, "num_samples": int(cal.get("num_samples", 0) or 0),
            "scales": scales, "max": maxima, "notes": []}


# ----------------------------------------------------------------------------------------
# conversion


def convert(ann: AnnModel, coding: str = "rate", *, percentile: float = DEFAULT_PERCENTILE,
            calibration_samples: np.ndarray | None = None, payload_bits: int = DEFAULT_PAYLOAD_BITS,
            input_encoding: str | None = None, v_init: float = defaults.V_INIT, dt_s: float = defaults.DT_S,
            calibration_info: dict[str, Any] | None = None) -> SpikingNetwork:
    """Convert ``ann`` into a spiking network (see the module docstring).

    Parameters
    ----------
    ann : AnnModel
    coding : {'rate', 'graded'}
    percentile : float
        Normalisation percentile of positive activations, in (0, 100].
    calibration_samples : ndarray (N, d), optional
        Calibrate on these samples instead of the stored statistics.
    payload_bits : int
        Graded coding: payload resolution, ``payload_step = 1 / (2**bits - 1)`` of the scale.
    input_encoding : str, optional
        Rate coding: 'regular' (default) or 'bernoulli'. Graded coding: 'graded'.
    v_init : float
        Rate coding: initial membrane of the IF neurons, in thresholds (0.5 rounds).
    dt_s : float
        Timestep in seconds (metadata for time-based figures; the dynamics are per step).
    calibration_info : dict, optional
        Extra plain values recorded with the calibration (dataset, split).
    """
    if coding not in CODINGS:
        raise ValidationError(f"coding must be one of {', '.join(CODINGS)}, got {coding!r}")
    encoding = input_encoding or INPUT_ENCODINGS[coding][0]
    if encoding not in INPUT_ENCODINGS[coding]:
        raise ValidationError(f"input encoding {encoding!r} does not fit coding {coding!r} "
                              f"(use {', '.join(INPUT_ENCODINGS[coding])})")
    payload_bits = int(payload_bits)
    if not 1 <= payload_bits <= 24:
        raise ValidationError(f"payload bits must be in 1..24, got {payload_bits}")
    if not 0.0 <= v_init < 1.0:
        raise ValidationError(f"v_init must be in [0, 1) thresholds, got {v_init}")
    cal = calibration_scales(ann, percentile, calibration_samples)
    if calibration_info:
        cal.update(calibration_info)
    scales = cal["scales"]
    n_hidden = len(ann.weights) - 1
    step = 1.0 / (2 ** payload_bits - 1)

    in_opts: dict[str, Any] = {"encoding": encoding}
    in_params: dict[str, Any] = {"gain": 1.0 / scales[0]}
    if coding == "graded":
        in_opts["payload_step"] = step
    layers = [Layer("input", "input", ann.input_dim, params=in_params, options=in_opts)]
    for l in range(n_hidden):
        w = ann.weights[l] * (scales[l] / scales[l + 1])
        b = ann.biases[l] / scales[l + 1]
        name = "hidden" if n_hidden == 1 else f"hidden{l + 1}"
        conn = Connection.from_weights(w, b)
        if coding == "rate":
            layers.append(Layer(name, "if", w.shape[0], params={"v_threshold": 1.0, "v_init": v_init},
                                options={"reset": "subtract"}, connection=conn))
        else:
            layers.append(Layer(name, "sigma_delta", w.shape[0], params={"v_threshold": step / 2},
                                options={"payload_step": step}, connection=conn))
    w_out = ann.weights[-1] * scales[-1]
    layers.append(Layer("output", "readout", w_out.shape[0], params={"scale": 1.0},
                        options={"activation": ann.output_activation,
                                 "decode": "mean" if coding == "rate" else "sum"},
                        connection=Connection.from_weights(w_out, ann.biases[-1])))
    meta: dict[str, Any] = {
        "converter": "neurosim.ann_to_snn", "converter_version": CONVERTER_VERSION,
        "coding": coding, "model": ann.source.get("model", "unknown"), "source": ann.source.get("path"),
        "source_sha256": ann.source.get("sha256"), "source_format": ann.source.get("format"),
        "ann_layers": list(ann.names), "ann_equivalent": True, "output_activation": ann.output_activation,
        "gate": ann.source.get("gate", "none"), "calibration": cal, "v_init": v_init if coding == "rate" else None,
    }
    if coding == "graded":
        meta.update(payload_bits=payload_bits, payload_step=step,
                    max_payload_int=[int(np.ceil(m / s / step)) for m, s in zip(cal["max"], scales)])
    for key in ("dataset", "image_shape", "hidden", "weight_sparsity", "active_fraction", "seed"):
        if key in ann.config and ann.config[key] is not None:
            meta.setdefault(key, ann.config[key])
    meta = {k: v for k, v in meta.items() if v is not None}
    return SpikingNetwork(layers, dt_s=dt_s, metadata=meta)


def convert_file(path: str | Path, coding: str = defaults.CODING, *, layers: Sequence[str] | None = None,
                 output_activation: str | None = None, calibration: int | None = None,
                 dataset: str | None = None, data_dir: str | Path | None = None, **kwargs: Any
                 ) -> tuple[SpikingNetwork, AnnModel]:
    """Load ``path`` and convert it; ``calibration=N`` calibrates on N training samples of ``dataset``.

    ``dataset`` defaults to the checkpoint's own (its config), else ``'digits'``; ``data_dir``
    to the folder the checkpoint records for it. Without stored statistics (plain state dicts)
    and without ``calibration``, the first :data:`neurosim.defaults.CALIBRATION_SAMPLES`
    training samples of ``dataset`` are used. The network's metadata records the data it came
    from (``dataset``, ``split`` 'train', ``data_dir`` made absolute) for later stages.
    """
    ann = load_ann(path, layers=layers, output_activation=output_activation)
    own = ann.config.get("dataset")
    dataset = dataset or own or defaults.DATASET
    if data_dir is None and dataset == own:
        data_dir = ann.config.get("data_dir")
    samples = None
    info = None
    if calibration is not None or ann.calibration is None:
        from neurosim.data import load_dataset

        n = defaults.CALIBRATION_SAMPLES if calibration is None else int(calibration)
        if n <= 0:
            raise ValidationError(f"--calibration must be a positive number of samples, got {n}")
        data = load_dataset(dataset, "train", data_dir).subset(n)
        if data.num_features != ann.input_dim:
            raise ConversionError(f"{path}: the network takes {ann.input_dim} inputs but dataset {dataset!r} has "
                                  f"{data.num_features} features (pick the matching --dataset)")
        samples = data.x
        info = {"dataset": dataset, "split": "train"}
        ann.config.setdefault("image_shape", list(data.image_shape))
    net = convert(ann, coding, calibration_samples=samples, calibration_info=info, **kwargs)
    net.metadata.update(dataset=dataset, split="train")
    if data_dir is not None:
        folder = Path(data_dir)
        net.metadata["data_dir"] = str(folder.resolve()) if folder.is_dir() else str(folder)
    return net, ann


# ----------------------------------------------------------------------------------------
# the ANN behind a converted network, and its cost


def ann_forward_from_network(network: SpikingNetwork, x: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The source ANN's hidden activations (in the network's normalised units) and its output.

    Valid for networks with metadata ``ann_equivalent``: ``a_0 = gain * x``,
    ``a_l = relu(W'_l a_{l-1} + b'_l)``, output ``activation(scale * (W'_L a + b'_L))``.
    Multiply hidden activations by the layer scale to get the ANN's own units. The products
    are dense (BLAS, as the ANN computes them): a sparse connection is densified one layer at a time.
    """
    if not network.metadata.get("ann_equivalent"):
        raise ConversionError("network was not converted from a ReLU ANN (metadata lacks ann_equivalent)")
    a = np.asarray(x, dtype=np.float64) * network.layers[0].params["gain"][None, :]
    hidden = []
    for layer in network.layers[1:-1]:
        a = np.maximum(a @ layer.connection.dense().T + layer.connection.bias, 0.0)
        hidden.append(a)
    out = network.layers[-1]
    z = out.params["scale"] * (a @ out.connection.dense().T + out.connection.bias)
    return hidden, output_activation(z, out.options.get("activation", "identity"))


def ann_macs(network: SpikingNetwork, x: np.ndarray) -> dict[str, float]:
    """Multiply-accumulates per inference of the network's ANN.

    ``dense``: every weight of the same-shape dense ANN (``sum_l n_l * n_{l-1}``);
    ``weights``: every nonzero weight; ``effective``: nonzero weights fed by a nonzero input
    or hidden activation (the work a sparsity-exploiting accelerator does), averaged over ``x``.
    """
    hidden, _ = ann_forward_from_network(network, x)
    acts = [np.asarray(x, dtype=np.float64)] + hidden
    dense = sum(np.prod(layer.connection.shape) for layer in network.layers[1:])
    nonzero = sum(layer.connection.nonzero_synapses for layer in network.layers[1:])
    effective = 0.0
    for l, a in enumerate(acts):
        effective += float(((a != 0) @ network.fan_out(l)).mean())
    return {"dense": float(dense), "weights": float(nonzero), "effective": effective}


__all__ = ["AnnModel", "load_ann", "calibration_scales", "convert", "convert_file", "ann_forward_from_network",
           "ann_macs", "file_sha256", "CODINGS", "CheckpointError"]
