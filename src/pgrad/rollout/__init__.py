"""Rollouts: running a policy in environments to collect episodes and evaluations."""
