"""Benchmark scripts: each prints its measurements against an anchor measured in the same run."""
