"""The many-run studies: the §4 table (reproduce), the full-budget baselines, the ablations, the generative and
detection studies and the sweep summary. Each runs as `python -m studies.NAME` (reproduce.py at the root for §4)
and trains through lab/, which never imports it."""
