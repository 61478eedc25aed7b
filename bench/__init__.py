"""Benchmarks and their input generators (not part of the installed package)."""
