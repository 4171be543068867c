"""neurosim: dense vs sparse autoencoders, ANN-to-SNN conversion, spiking simulation
(reference engine, Brian2, Lava) and hardware energy/latency estimates.

Pipeline: data -> train -> checkpoint (.pt) -> convert -> NIR file -> simulate ->
activity record -> estimate (hardware profile) -> report.
"""

__version__ = "0.1.0"
