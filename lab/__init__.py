"""The machinery behind the entry points, one package per experiment beside the parts every run shares.

At this root, what every experiment uses: util (CLI errors, atomic writes),
backends, datasets, batches, train_steps, runs (output folders, resume,
locks), provenance (a table's stamp) and archs (one entry per --arch). One
package per experiment: supervised/ (§4), generative/ (§5's GANs, the VAEs),
detection/ (the region proposals), rl/ (§6's A2C). A package imports the root
and model_builders.py, never another experiment's package; nothing here
imports an entry point or studies/.
"""
