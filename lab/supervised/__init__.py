"""§4: the supervised coordinate tasks (train.py): the trainer, the tasks and their metrics, the Not-so-Clevr
data, and the seed study's recipe parts (--redraw_dead, --extra_epochs)."""
