# Two entry points: `make reproduce` (the main job) and `make test`.
# `make reproduce ARGS="--epochs-scale 0.1"` passes flags to reproduce.py; `make reproduce-gan` runs
# the generative studies (studies/reproduce_gan.py: GANs and VAEs), `make reproduce-detection` the
# region-proposal study (studies/reproduce_detection.py), `make reproduce-rl` the A2C study on Ms. Pac-Man
# and `make reproduce-rl-nine` on our nine Atari games (studies/reproduce_rl.py).
# Each sets up the virtual environment and the data it needs. `make gpu-wheels` fetches what the GPU
# machine lacks (gpu/wheels.txt) into .whl/, for gpu/run.sh there.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
DATA := data/rectangle_4_uniform.h5 data/rectangle_4_quadrant.h5
export TF_CPP_MIN_LOG_LEVEL ?= 3

.PHONY: reproduce reproduce-gan reproduce-detection reproduce-rl reproduce-rl-nine test test-slow test-oldest data \
	gpu-wheels

$(INSTALLED): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.txt
	touch $@

$(DATA) &: data/not_so_clevr_generator.py lab/supervised/not_so_clevr.py | $(INSTALLED)
	$(PY) data/not_so_clevr_generator.py

data: $(DATA)

reproduce: $(DATA)
	$(PY) reproduce.py $(ARGS)

reproduce-gan: $(DATA)
	$(PY) -m studies.reproduce_gan $(ARGS)

reproduce-detection: | $(INSTALLED)
	$(PY) -m studies.reproduce_detection $(ARGS)

reproduce-rl: | $(INSTALLED)
	$(PY) -m studies.reproduce_rl $(ARGS)

reproduce-rl-nine: | $(INSTALLED)
	$(PY) -m studies.reproduce_rl --games nine $(ARGS)

test: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -n 2

test-slow: $(INSTALLED) $(DATA)
	$(PY) -m pytest -q -n 2 -m slow

# The oldest versions the bounds allow, each leg in a venv of its own: requirements.txt resolved to its lower
# bounds (uv's lowest-direct) and the fast suite there; then the layer package (pyproject.toml: keras and numpy
# at their lower bounds, TensorFlow as its backend) through its own tests and docstring examples.
OLDEST := .venv-oldest
LAYER_OLDEST := .venv-layer-oldest

$(OLDEST)/.installed: requirements.txt
	$(PYTHON) -m venv $(OLDEST)
	$(OLDEST)/bin/pip install -q uv
	$(OLDEST)/bin/uv pip install -q --python $(OLDEST)/bin/python --resolution lowest-direct -r requirements.txt
	touch $@

$(LAYER_OLDEST)/.installed: pyproject.toml
	$(PYTHON) -m venv $(LAYER_OLDEST)
	$(LAYER_OLDEST)/bin/pip install -q uv
	$(LAYER_OLDEST)/bin/uv pip install -q --python $(LAYER_OLDEST)/bin/python --resolution lowest-direct . \
		"tensorflow-cpu>=2.17" "h5py>=3.10" "pytest>=8"
	touch $@

test-oldest: $(OLDEST)/.installed $(LAYER_OLDEST)/.installed
	$(OLDEST)/bin/python -m pytest -q -n 2
	$(LAYER_OLDEST)/bin/python -m pytest -q tests/test_coordconv.py tests/test_layer_packaging.py CoordConv.py

gpu-wheels: gpu/wheels.txt | $(INSTALLED)
	$(VENV)/bin/pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
		--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
		-d .whl -r gpu/wheels.txt
