"""micromove's benchmarks: `python3 -m bench` (see bench/__main__.py and bench/RESULTS.md).

Every figure is measured side by side with its comparator in the same run and
reported as a ratio: these machines are shared and noisy, so absolute times
alone mean little.
"""
