"""Benchmarks of the JTAI evidence portal (see BENCHMARKS.md)."""
