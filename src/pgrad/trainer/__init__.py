"""Training: the loop, its logs, plots and checkpoints."""
