"""`make drill`: the ledger under crashes and outages, as its operators would meet them.

Each scenario runs a fresh ledger on one backend with a load client that sends every write
under its own Idempotency-Key and records every acknowledgement, while the scenario kills
processes, restarts PostgreSQL, fills the disk or crowds one stream. Afterwards everything is
restarted cleanly, every key is sent once more (each must be resolved: a replayed answer, never
"in progress" or a server error), every write's marker is counted in the stored records (lost:
acknowledged but absent; duplicated: present more than once) and the live audit is run.

    python -m bench.drill [--full] [--backend sqlite|postgres|both] [--out DIR]
"""
