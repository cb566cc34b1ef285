"""Helpers of bench/bench_load.py: seeding, the load generator and the consistency checks."""
