"""`lienthong bench`: the machine's limits, measured side by side in one run and printed as
ratios (docs/performance.md records the figures and how they were produced). A benchmark, never
a timed test."""
