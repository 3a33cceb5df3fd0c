"""Algorithms: each module turns a batch into one or more optimiser steps."""
