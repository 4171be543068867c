"""NIR files <-> :class:`~neurosim.network.SpikingNetwork`: one serialisation path, ``nir.write``/``nir.read``.

Writing
-------
A network becomes a chain ``Input -> [Scale] -> Affine -> neuron -> Affine -> neuron ... -> Output``
of standard NIR nodes that a plain NIR reader understands; what NIR cannot say lives in the
node or graph ``metadata['neurosim']``, a JSON object stored as a string (so it survives HDF5
unchanged). Node names: the input node and each neuron node carry the layer name, the
synapses into layer ``name`` are the Affine node ``name + '_synapses'``, the Output node is
``output`` (``nir_output`` when a layer is called ``output``).

Time convention. NIR's equations are continuous in time; neurosim discretises those with a
time constant by forward Euler over the graph's ``dt`` (graph metadata ``neurosim.dt_s``; for
graphs from other tools the reader's ``dt_s`` argument, default 1 ms), with the Affine output
taken as the input ``I`` for one step (a spike is a unit message for one step), as snnTorch's
NIR export and import do. IF and I have no time constant: their ``r`` is the per-step gain
(``v += r * I``), the reading snnTorch's importer requires (it accepts IF only with ``r = 1``):

=================  ====================================  =========================================
neurosim kind      NIR node                              mapping
=================  ====================================  =========================================
input              Input (+ Scale ``gain`` when != 1)    ``neurosim``: encoding, v_init, payload_step
if                 IF(r = 1, v_threshold, v_reset)       IF: ``v += r * I``; ``neurosim``: reset
                                                         ('subtract' | 'zero'), v_init
lif                LIF(tau, r, v_leak, v_threshold,      ``v += dt/tau (v_leak - v) + dt/tau r I``
                   v_reset)
cuba_lif           CubaLIF(tau_syn, tau_mem, r, v_leak,  ``i += dt/tau_syn (-i + w_in S)``: neurosim's
                   v_threshold, v_reset, w_in)           ``w_in = dt/tau_syn * NIR w_in``
li                 LI(tau, r, v_leak)                    as lif without threshold
sigma_delta        I(r = 1)                              the integrator is the ``sigma`` state;
                                                         ``neurosim``: kind, v_threshold, payload_step
                                                         (ReLU, delta output, bias not integrated)
readout            I(r = 1)                              the accumulator ``acc``; ``neurosim``: kind,
                                                         scale, activation, decode
=================  ====================================  =========================================

An IF/I node's ``r`` different from 1 is folded into the rows of the incoming Affine
(``W' = r W``, ``b' = r b``). A plain reader of a rate-coded file therefore sees an IF
network fed with the analog input ``gain * x`` per step: the rate-coded network's expectation.

Reading
-------
Generic feed-forward chains of Input, Affine/Linear, Scale, IF, LIF, CubaLIF, LI and Output
(scalars broadcast to the layer size; consecutive Affine/Linear/Scale nodes are composed; a
Scale right after Input is the input gain; the input encoding of a graph without neurosim
metadata is ``current`` unless ``input_encoding`` says otherwise; NIR resets are reset-to-value,
``reset='zero'``). An Affine/Linear/Scale right before Output (a network whose output is a
current, as snnTorch models often end) becomes a ``readout`` layer named after that node: its
decoded output is the time average of the current (``activation`` and ``decode`` from the graph
metadata ``neurosim.readout`` when present, see :mod:`converters.nir_strict`).

The time step: ``dt_s`` when given, else the graph metadata's ``neurosim.dt_s``, else
:data:`DEFAULT_DT_S` (1 ms); a graph without neurosim metadata records which in
``metadata['dt_source']`` ('argument' | 'default'). NIR states no time step: snnTorch writes and
reads its graphs for ``dt = 1e-4`` s (``tau = dt / (1 - beta)``, ``r = tau / dt``), so read those with
``dt_s=1e-4`` to reproduce snnTorch's dynamics; IF-only graphs do not depend on ``dt``.

Branches, recurrent edges, other node types or a file that is not NIR raise a one-line
:class:`NetworkFileError` or :class:`UnsupportedNodeError` naming the node and its type; so do
malformed graphs (an edge to a missing node, shapes that do not chain, NaN or infinite values).
"""
from __future__ import annotations

# the format's constants and shared helpers, the writer and the reader, re-exported here
from converters.nir_meta import (  # noqa: F401
    DEFAULT_DT_S, FORMAT, FORMAT_VERSION, KEY, NEURON_TYPES, SUPPORTED, _compact, _dumps,
)
from converters.nir_write import _neuron_node, _unique, network_to_nir, write_graph, write_network  # noqa: F401
from converters.nir_read import META_TYPES, _loads, nir_to_network, read_network  # noqa: F401
