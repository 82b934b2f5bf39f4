"""`pixelpilot eval desktop`: the `desktop:` task suite as an online benchmark.

Modules: `benchmark` (options, samples, scoring and the per-task summary), `run` (episodes on a
private display through the agent loop). May import: `pixelpilot.actions`, `pixelpilot.env`
(the desktop adapter and its suite), `pixelpilot.agent`, `pixelpilot.model`, `pixelpilot.evals`.
"""
