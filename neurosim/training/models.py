"""Dense and sparse autoencoders of the same shape (d -> H -> d), and how much they compute.

Both models share one forward pass (the one :mod:`neurosim.checkpoint` documents)::

    z = x @ W_enc.T + b_enc                  # (N, H) encoder pre-activation
    h = relu(z - theta)                      # theta = gate.threshold; 0 for the dense model
    y = sigmoid(h @ W_dec.T + b_dec)         # (N, d) reconstruction, pixels in [0, 1]

with ``W_enc`` of shape (H, d) and ``W_dec`` of shape (d, H). The sparse model adds

* **static weight sparsity**: boolean masks on both weight matrices
  (:mod:`neurosim.training.pruning` grows them with the Zhu & Gupta cubic schedule); pruned weights are
  exact zeros, always;
* **dynamic activity sparsity**: a learned per-unit threshold ``theta`` (:mod:`neurosim.training.gating`)
  tuned so that about ``active_fraction`` of the hidden units fire for any one input.

Compute is counted in multiply-accumulates (MACs) per inference, see :func:`macs_per_input`.
"""
from __future__ import annotations

import torch
from torch import nn

from neurosim.errors import ValidationError
from neurosim.training.gating import ThresholdGate

#: the two weight matrices of every autoencoder, in state_dict naming
WEIGHT_NAMES = ("encoder.weight", "decoder.weight")


def _check_shape(input_dim: int, hidden: int) -> None:
    if int(input_dim) <= 0:
        raise ValidationError(f"input dimension must be positive, got {input_dim}")
    if int(hidden) <= 0:
        raise ValidationError(f"hidden size must be positive, got {hidden}")


class DenseAutoencoder(nn.Module):
    """Fully connected autoencoder ``d -> H -> d``, ReLU hidden layer, sigmoid output.

    Parameters
    ----------
    input_dim : int
        Number of pixels ``d``.
    hidden : int
        Number of hidden units ``H``.
    """

    gate_kind = "none"

    def __init__(self, input_dim: int, hidden: int) -> None:
        super().__init__()
        _check_shape(input_dim, hidden)
        self.input_dim = int(input_dim)
        self.hidden = int(hidden)
        self.encoder = nn.Linear(self.input_dim, self.hidden)
        self.decoder = nn.Linear(self.hidden, self.input_dim)

    def preactivation(self, x: torch.Tensor) -> torch.Tensor:
        """Encoder pre-activation ``z = x W_enc^T + b_enc``, shape (N, H)."""
        return self.encoder(x)

    def activate(self, z: torch.Tensor) -> torch.Tensor:
        """Hidden activity from the pre-activation: ``relu(z)``."""
        return torch.relu(z)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Hidden activity ``h``, shape (N, H)."""
        return self.activate(self.preactivation(x))

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        """Reconstruction ``y = sigmoid(h W_dec^T + b_dec)``, shape (N, d), values in (0, 1)."""
        return torch.sigmoid(self.decoder(h))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(y, h)``: the reconstruction and the hidden activity."""
        h = self.encode(x)
        return self.decode(h), h

    def weight_tensors(self) -> dict[str, torch.Tensor]:
        """The two weight matrices by state_dict name (biases are not counted as weights)."""
        return {"encoder.weight": self.encoder.weight, "decoder.weight": self.decoder.weight}

    def masks(self) -> dict[str, torch.Tensor] | None:
        """Pruning masks (``None``: nothing is pruned)."""
        return None


class SparseAutoencoder(DenseAutoencoder):
    """Same shape as :class:`DenseAutoencoder`, with pruning masks and a threshold gate.

    ``h = relu(x W_enc^T + b_enc - theta)``. The masks are buffers ``mask_encoder`` (H, d) and
    ``mask_decoder`` (d, H), all True until :mod:`neurosim.training.pruning` shrinks them; the caller
    (the training loop) keeps masked weights at exactly zero with :meth:`apply_masks`.
    """

    gate_kind = "threshold"

    def __init__(self, input_dim: int, hidden: int) -> None:
        super().__init__(input_dim, hidden)
        self.gate = ThresholdGate(self.hidden)
        self.register_buffer("mask_encoder", torch.ones(self.hidden, self.input_dim, dtype=torch.bool))
        self.register_buffer("mask_decoder", torch.ones(self.input_dim, self.hidden, dtype=torch.bool))

    def activate(self, z: torch.Tensor) -> torch.Tensor:
        return self.gate(z)

    def masks(self) -> dict[str, torch.Tensor]:
        return {"encoder.weight": self.mask_encoder, "decoder.weight": self.mask_decoder}

    @torch.no_grad()
    def apply_masks(self) -> None:
        """Set every pruned weight to exactly zero."""
        self.encoder.weight.mul_(self.mask_encoder)
        self.decoder.weight.mul_(self.mask_decoder)

    def export_state(self) -> dict[str, torch.Tensor]:
        """State dict in checkpoint naming (no mask buffers; masks are stored separately)."""
        sd = self.state_dict()
        return {k: v.detach().clone() for k, v in sd.items() if not k.startswith("mask_")}


@torch.no_grad()
def weight_density(model: DenseAutoencoder) -> float:
    """Nonzero weights / all weights, over both weight matrices (biases excluded)."""
    ws = model.weight_tensors().values()
    return float(sum(int(torch.count_nonzero(w)) for w in ws) / sum(w.numel() for w in ws))


@torch.no_grad()
def macs_per_input(model: DenseAutoencoder, x: torch.Tensor, h: torch.Tensor | None = None,
                   effective: bool | None = None) -> torch.Tensor:
    """Multiply-accumulates for each input row of ``x``, shape (N,), float64.

    Dense counting (``effective=False``, the default for :class:`DenseAutoencoder`): every
    weight is one MAC, ``2 d H`` per input, whatever the input.

    Effective counting (``effective=True``, the default for :class:`SparseAutoencoder`): only
    nonzero weights fed by nonzero inputs::

        layer 1: sum_i [x_i != 0] * #{j : W_enc[j, i] != 0}
        layer 2: sum_j [h_j  > 0] * #{k : W_dec[k, j] != 0}

    (the synaptic events an event-driven machine would perform).

    Parameters
    ----------
    model : DenseAutoencoder
    x : torch.Tensor
        Inputs, shape (N, d).
    h : torch.Tensor, optional
        Hidden activity of ``x`` (computed when omitted).
    effective : bool, optional
        Override the counting rule.
    """
    if effective is None:
        effective = isinstance(model, SparseAutoencoder)
    n = x.shape[0]
    if not effective:
        per = 2.0 * model.input_dim * model.hidden
        return torch.full((n,), per, dtype=torch.float64)
    if h is None:
        h = model.encode(x)
    fan_out_in = (model.encoder.weight != 0).sum(dim=0).double()    # (d,) per input pixel
    fan_out_hid = (model.decoder.weight != 0).sum(dim=0).double()   # (H,) per hidden unit
    return (x != 0).double() @ fan_out_in + (h > 0).double() @ fan_out_hid


def dense_macs(input_dim: int, hidden: int) -> int:
    """MACs per inference of a dense ``d -> H -> d`` autoencoder: ``2 d H``."""
    return 2 * int(input_dim) * int(hidden)


def iso_compute_hidden(macs: float, input_dim: int) -> int:
    """Smallest hidden size whose dense MACs (``2 d H``) are at least ``macs``.

    Rounding up gives the iso-compute baseline at least the compute of the model it is
    compared with (never less).
    """
    per_unit = 2 * int(input_dim)
    return max(1, int(-(-float(macs) // per_unit)))


class DenseAutoencoderStack(nn.Module):
    """``K`` independent dense autoencoders of different hidden sizes, trained as one module.

    Used for the iso-compute baseline: the hidden size that matches the sparse model's
    effective MACs is only known after training, so a ladder of candidate sizes trains in the
    same loop, on the same batches, and the matching one is kept. Candidate ``k`` occupies the
    first ``sizes[k]`` of ``max(sizes)`` padded units; padded units have zero weights, zero
    bias and zero gradient, so each candidate trains exactly as a separate
    :class:`DenseAutoencoder` would under an element-wise optimizer such as Adam, when the
    loss is the sum of the candidates' losses.

    Parameters
    ----------
    input_dim : int
    sizes : list[int]
        Hidden sizes of the candidates.
    generator : torch.Generator, optional
        Initialisation: each candidate is initialised as a fresh ``DenseAutoencoder``
        (PyTorch's default ``nn.Linear`` initialisation) drawn in order from this generator.
    """

    def __init__(self, input_dim: int, sizes: list[int], generator: torch.Generator | None = None) -> None:
        super().__init__()
        if not sizes:
            raise ValidationError("the stack needs at least one hidden size")
        for s in sizes:
            _check_shape(input_dim, s)
        self.input_dim = int(input_dim)
        self.sizes = [int(s) for s in sizes]
        k, hmax, d = len(self.sizes), max(self.sizes), self.input_dim
        w_enc = torch.zeros(k, hmax, d)
        b_enc = torch.zeros(k, hmax)
        w_dec = torch.zeros(k, d, hmax)
        b_dec = torch.zeros(k, d)
        unit_mask = torch.zeros(k, hmax)
        for i, s in enumerate(self.sizes):
            ref = _init_dense(d, s, generator)
            w_enc[i, :s] = ref.encoder.weight.detach()
            b_enc[i, :s] = ref.encoder.bias.detach()
            w_dec[i, :, :s] = ref.decoder.weight.detach()
            b_dec[i] = ref.decoder.bias.detach()
            unit_mask[i, :s] = 1.0
        self.w_enc = nn.Parameter(w_enc)
        self.b_enc = nn.Parameter(b_enc)
        self.w_dec = nn.Parameter(w_dec)
        self.b_dec = nn.Parameter(b_dec)
        self.register_buffer("unit_mask", unit_mask)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(y, h)`` of shapes (K, N, d) and (K, N, max(sizes))."""
        z = torch.einsum("nd,khd->knh", x, self.w_enc) + self.b_enc[:, None, :]
        h = torch.relu(z) * self.unit_mask[:, None, :]
        y = torch.sigmoid(torch.einsum("knh,kdh->knd", h, self.w_dec) + self.b_dec[:, None, :])
        return y, h

    @torch.no_grad()
    def narrow(self, keep: list[int], optimizer: torch.optim.Optimizer | None = None) -> None:
        """Keep only the candidates ``keep`` (indices), in place; also slices the per-parameter
        state of an element-wise ``optimizer`` (e.g. Adam's moments) so training goes on
        exactly as before for the kept candidates."""
        if not keep:
            raise ValidationError("narrow() needs at least one candidate to keep")
        idx = torch.tensor(sorted(keep))
        sizes = [self.sizes[i] for i in idx.tolist()]
        hmax = max(sizes)
        slicers = {
            "w_enc": lambda t: t[idx, :hmax],
            "b_enc": lambda t: t[idx, :hmax],
            "w_dec": lambda t: t[idx, :, :hmax],
            "b_dec": lambda t: t[idx],
        }
        for name, cut in slicers.items():
            param = getattr(self, name)
            fresh = nn.Parameter(cut(param.data).clone())
            if optimizer is not None:
                for group in optimizer.param_groups:
                    group["params"] = [fresh if p is param else p for p in group["params"]]
                state = optimizer.state.pop(param, None)
                if state is not None:
                    optimizer.state[fresh] = {
                        key: cut(value).clone() if isinstance(value, torch.Tensor) and value.shape == param.shape
                        else value for key, value in state.items()}
            setattr(self, name, fresh)
        self.unit_mask = self.unit_mask[idx, :hmax].clone()
        self.sizes = sizes

    @torch.no_grad()
    def mask_grads(self) -> None:
        """Zero the gradients of the padded units (call after backward)."""
        self.w_enc.grad.mul_(self.unit_mask[:, :, None])
        self.b_enc.grad.mul_(self.unit_mask)
        self.w_dec.grad.mul_(self.unit_mask[:, None, :])

    def extract(self, index: int) -> DenseAutoencoder:
        """Candidate ``index`` as a standalone :class:`DenseAutoencoder`."""
        s = self.sizes[index]
        model = DenseAutoencoder(self.input_dim, s)
        with torch.no_grad():
            model.encoder.weight.copy_(self.w_enc[index, :s])
            model.encoder.bias.copy_(self.b_enc[index, :s])
            model.decoder.weight.copy_(self.w_dec[index, :, :s])
            model.decoder.bias.copy_(self.b_dec[index])
        return model


def _init_dense(input_dim: int, hidden: int, generator: torch.Generator | None) -> DenseAutoencoder:
    """A DenseAutoencoder initialised like PyTorch's nn.Linear, from ``generator`` if given."""
    model = DenseAutoencoder(input_dim, hidden)
    if generator is not None:
        with torch.no_grad():
            for lin in (model.encoder, model.decoder):
                bound = 1.0 / lin.in_features ** 0.5
                # kaiming_uniform(a=sqrt(5)) and the bias rule of nn.Linear both give U(-b, b)
                lin.weight.uniform_(-bound, bound, generator=generator)
                lin.bias.uniform_(-bound, bound, generator=generator)
    return model


def init_autoencoder(cls: type[DenseAutoencoder], input_dim: int, hidden: int,
                     generator: torch.Generator) -> DenseAutoencoder:
    """``cls(input_dim, hidden)`` with weights drawn from ``generator`` (reproducible)."""
    model = cls(input_dim, hidden)
    ref = _init_dense(input_dim, hidden, generator)
    with torch.no_grad():
        for name in ("encoder", "decoder"):
            getattr(model, name).weight.copy_(getattr(ref, name).weight)
            getattr(model, name).bias.copy_(getattr(ref, name).bias)
    return model
