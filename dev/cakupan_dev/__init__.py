"""Development tools for Cakupan: the synthetic generator, the messy-file corpus, a throwaway PostgreSQL
cluster and the demo's ground-truth check. Installed by `make venv` (tests, demo, bench), never in the runtime image."""
