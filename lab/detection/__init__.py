"""The region-proposal experiment (train_detection.py): the RPN's training and losses, and the Field-of-MNIST data."""
