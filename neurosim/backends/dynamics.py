"""Membrane dynamics written once for every array backend (numpy arrays and torch tensors).

The functions update their state arrays in place with plain arithmetic operators, so the
reference engine (numpy) and the torch backend run the same expression in the same order and
stay bit-identical in float64. Forward-Euler discretisation with ``a = dt / tau`` (see
:mod:`neurosim.network` for the parameters' meaning and units):

.. math::

    v \\leftarrow v + a\\,(v_\\text{leak} - v) + a\\,r\\,I          \\quad\\text{(LIF, LI)}

    i_\\text{syn} \\leftarrow i_\\text{syn} - a_\\text{syn}\\,i_\\text{syn} + w_\\text{in}\\,I, \\qquad
    v \\leftarrow v + a_\\text{mem}\\,(v_\\text{leak} - v) + a_\\text{mem}\\,r\\,i_\\text{syn}
    \\quad\\text{(CubaLIF)}
"""
from __future__ import annotations

from typing import Any


def leaky_step(v: Any, cur: Any, a: Any, leak: Any, r: Any) -> None:
    """Leaky integration of input current ``cur`` into ``v`` (in place), shape (samples, n)."""
    v += a * (leak - v) + a * r * cur


def cuba_step(v: Any, i_syn: Any, cur: Any, a_syn: Any, a_mem: Any, leak: Any, r: Any, w_in: Any) -> None:
    """Current-based synapse then leaky membrane (both in place), shape (samples, n)."""
    i_syn += -a_syn * i_syn + w_in * cur
    v += a_mem * (leak - v) + a_mem * r * i_syn
