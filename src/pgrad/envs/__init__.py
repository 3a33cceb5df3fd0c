"""Environments: Gymnasium vector environments and their spaces."""
