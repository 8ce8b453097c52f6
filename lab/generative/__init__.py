"""§5: the GANs and VAEs (train_gan.py, train_vae.py): their trainers, what both share (samples, latent walks,
the mode-collapse figures), and the Sort-of-Clevr and LSUN data."""
