"""The machinery behind the entry points: the tasks, data, networks by --arch, training loops and run folders.

Floors, lowest first: util (CLI errors, atomic writes) and the data generators;
backends, datasets, tasks, batches; runs and train_steps; archs; the training
loops (supervised_training, gan_training, vae_training, detection_training).
Nothing here imports an entry point or studies/.
"""
