"""Policies: pi_theta(a|s) as PyTorch modules."""
