"""§6: A2C on Atari (train_rl.py): the agent, the games, the trainer, and the statistics over games."""
