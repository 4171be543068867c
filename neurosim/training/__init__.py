"""Training: autoencoder models, pruning, activity gating, the side-by-side loop, plots and the live view."""
