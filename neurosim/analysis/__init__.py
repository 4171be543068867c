"""Analyses of trained networks: digit-specific subnetworks (:mod:`.subnetworks`) and the
ablation experiments that test them (:mod:`.ablation`)."""
