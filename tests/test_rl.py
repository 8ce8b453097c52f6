"""A2C (§6): the network, the returns, learning on a small pixel game, train_rl.py end to end and its errors."""

import json
import shlex
import shutil

import keras
import numpy as np
import pytest

import model_builders
from conftest import ROOT, documented_counts
from lab.rl import atari, rl_training
from lab import provenance
from lab.rl.a2c import A2CAgent, BaselinesRMSprop, LossWeights, returns_and_advantages, sample_actions
from lab.util import run_cli


def test_network_parameter_counts_match_the_docstring():
    counts = [model_builders.a2c_network((4, 84, 84), 9, coords).count_params() for coords in (None, "first", "all")]
    conv, first, every = documented_counts(model_builders.a2c_network)
    assert counts == [conv, conv + first, conv + every]


@pytest.mark.parametrize("coords", model_builders.A2C_COORDS)
def test_coordconv_with_zero_coordinate_weights_is_the_conv_network(coords):
    """The only difference between the archs is the coordinate channels' weights."""
    keras.utils.set_random_seed(3)
    conv = model_builders.a2c_network((4, 84, 84), 9)
    coordconv = model_builders.a2c_network((4, 84, 84), 9, coords)
    weights = []
    for source, target in zip(conv.get_weights(), coordconv.get_weights()):
        if source.shape != target.shape:  # a CoordConv kernel: the data rows, then two coordinate rows of zeros
            source = np.concatenate([source, np.zeros(source.shape[:2] + (2,) + source.shape[3:], "float32")], 2)
        weights.append(source)
    coordconv.set_weights(weights)
    frames = np.random.default_rng(0).integers(0, 256, (3, 4, 84, 84)).astype(np.uint8)
    ours, theirs = coordconv.predict_on_batch(frames), conv.predict_on_batch(frames)
    for key in ("logits", "value"):
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, atol=1e-6)
    assert np.abs(coordconv.get_layer(index=3).kernel.numpy()).sum() > 0  # the copy changed a real CoordConv


def reference_returns(rewards, terminals, truncations, bootstrap_values, last_values, gamma):
    """Each step's return summed forward, one game at a time: rewards until the bootstrap ends (a terminal), is
    replaced (a truncation: the cut state's value) or the rollout ends (the last state's value)."""
    steps, envs = rewards.shape
    returns = np.zeros((steps, envs))
    for n in range(envs):
        for t in range(steps):
            total, discount = 0.0, 1.0
            for k in range(t, steps):
                total += discount * rewards[k, n]
                discount *= gamma
                if terminals[k, n]:
                    break
                if truncations[k, n]:
                    total += discount * bootstrap_values[k, n]
                    break
            else:
                total += discount * last_values[n]
            returns[t, n] = total
    return returns


def test_coords_init_scale_scales_only_the_coordinate_rows_of_the_same_draw():
    """Every other weight is the default draw's, so a blind start differs from the paper's layer in that alone."""
    def first_kernel(scale):
        keras.utils.set_random_seed(3)
        network = model_builders.a2c_network((4, 84, 84), 9, "first", coords_init_scale=scale)
        return network.get_layer(index=3).kernel.numpy(), network.get_weights()[2:]

    (default, rest), (blind, blind_rest), (halved, _) = (first_kernel(scale) for scale in (1.0, 0.0, 0.5))
    np.testing.assert_array_equal(blind[:, :, :4], default[:, :, :4])
    assert not blind[:, :, 4:].any() and default[:, :, 4:].all()
    np.testing.assert_allclose(halved[:, :, 4:], 0.5 * default[:, :, 4:])
    for ours, theirs in zip(blind_rest, rest):
        np.testing.assert_array_equal(ours, theirs)


def test_returns_and_advantages_against_a_reference_with_every_kind_of_ending():
    """Game 0: the episode ends at step 1; game 1: a life lost at step 2; game 2: cut by the time limit at step 3;
    game 3: a life lost and the time limit at step 2 (the life ends the bootstrap); game 4: nothing ends."""
    rng = np.random.default_rng(0)
    rewards = rng.choice([-1.0, 0.0, 1.0], (5, 5)).astype(np.float32)
    terminals, truncations = np.zeros((5, 5), bool), np.zeros((5, 5), bool)
    terminals[1, 0] = terminals[2, 1] = terminals[2, 3] = True
    truncations[3, 2] = truncations[2, 3] = True
    bootstrap = rng.normal(size=(5, 5)).astype(np.float32)
    values, last = rng.normal(size=(5, 5)).astype(np.float32), rng.normal(size=5).astype(np.float32)
    returns, advantages = returns_and_advantages(rewards, terminals, truncations, bootstrap, values, last, 0.99)
    expected = reference_returns(rewards, terminals, truncations, bootstrap, last, 0.99)
    np.testing.assert_allclose(returns, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(advantages, expected - values, rtol=1e-5, atol=1e-6)
    # by hand: game 2's step 2 is its reward plus the cut state's value one step on, not step 4's
    assert returns[2, 2] == pytest.approx(rewards[2, 2] + 0.99 * (rewards[3, 2] + 0.99 * bootstrap[3, 2]))
    assert returns[1, 0] == pytest.approx(rewards[1, 0])


def test_sampled_actions_follow_the_policy():
    logits = np.log(np.array([[0.7, 0.2, 0.1]] * 20000))
    counts = np.bincount(sample_actions(logits, np.random.default_rng(0)), minlength=3) / 20000
    np.testing.assert_allclose(counts, [0.7, 0.2, 0.1], atol=0.01)


@pytest.mark.parametrize("form, halved", [("half_mse", 2.0), ("mse", 1.0)])
def test_the_loss_against_numpy_with_the_value_error_halved_as_baselines_2018(form, halved):
    """pg + 0.5 * value error - 0.01 * entropy, the value error mean((V - R)²) / 2 by default (baselines' a2c/utils.mse
    until mid-2018): recomputed in NumPy from the network's own outputs on a small batch."""
    keras.utils.set_random_seed(1)
    network = model_builders.a2c_network((4, 36, 36), 5)
    agent = A2CAgent(network, LossWeights(value_form=form))
    rng = np.random.default_rng(0)
    batch = {"frames": rng.integers(0, 256, (6, 4, 36, 36)).astype(np.uint8), "actions": rng.integers(0, 5, 6),
             "returns": rng.normal(size=6).astype(np.float32), "advantages": rng.normal(size=6).astype(np.float32)}
    losses = {key: float(value) for key, value in agent.losses_on(batch).items()}
    outputs = network.predict_on_batch(batch["frames"])
    logits = outputs["logits"].astype(np.float64)
    log_policy = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    policy_loss = -np.mean(batch["advantages"] * log_policy[np.arange(6), batch["actions"]])
    value_loss = np.mean((outputs["value"] - batch["returns"]) ** 2) / halved
    entropy = np.mean(-(np.exp(log_policy) * log_policy).sum(axis=1))
    assert losses["value_loss"] == pytest.approx(value_loss, rel=1e-4)
    assert losses["policy_loss"] == pytest.approx(policy_loss, rel=1e-4, abs=1e-6)
    assert losses["entropy"] == pytest.approx(entropy, rel=1e-4)
    assert losses["loss"] == pytest.approx(policy_loss + 0.5 * value_loss - 0.01 * entropy, rel=1e-4, abs=1e-6)


def test_each_training_seed_evaluates_on_games_of_its_own(monkeypatch):
    """Seeds 0, 1, 2 once shared 28 of their 30 evaluation games; now each seed's block is apart, and evaluate()
    starts its games at its seed's block."""
    blocks = [set(rl_training.evaluation_seeds(seed, 30)) for seed in range(3)]
    assert all(len(block) == 30 for block in blocks) and not (blocks[0] & blocks[1] or blocks[1] & blocks[2])
    assert not any(block & set(range(3 * 16)) for block in blocks)  # nor any training game of these seeds

    class Started(Exception):
        pass

    def games(setting, count, seed, threads=1):
        raise Started(seed)

    monkeypatch.setattr(atari, "Games", games)
    with pytest.raises(Started) as started:
        rl_training.evaluate(None, atari.AtariSetting(), 30, 2)
    assert started.value.args[0] == min(blocks[2])


def test_rmsprop_starts_as_tensorflow_1s_inside_a_compiled_step():
    """TF1's mean square starts at 1, so the first step is lr * g / sqrt(rho + (1 - rho) g² + eps): checked through
    train_on_batch, where Keras builds the optimizer itself."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")])
    model.compile(optimizer=BaselinesRMSprop(0.1, rho=0.99, epsilon=1e-5), loss="mse")
    model.train_on_batch(np.array([[1.0]], "float32"), np.array([[0.0]], "float32"))  # d(w - 0)² / dw = 2
    expected = 1.0 - 0.1 * 2.0 / np.sqrt(0.99 + 0.01 * 4.0 + 1e-5)
    assert float(model.get_weights()[0][0, 0]) == pytest.approx(expected, rel=1e-6)


class DotGames:
    """A small pixel game for the learning test: a dot on a 9x9 board (4x4 pixels a cell) steered by 5 actions
    (stay, up, down, left, right) onto the centre cell: +1 there, and the dot reappears at random. A game is
    50 steps (200 frames); random play scores about 0.5 a game, steering straight about 9."""

    SIDE, CELL, LENGTH = 9, 4, 50
    MOVES = np.array([[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1]])

    def __init__(self, count: int, seed: int):
        self.rng = np.random.default_rng(seed)
        self.positions = self.rng.integers(0, self.SIDE, (count, 2))
        self.time = np.zeros(count, dtype=int)
        self.scores = np.zeros(count)
        self.finished, self.actions = [], len(self.MOVES)
        self.frames = self.render()

    def render(self) -> np.ndarray:
        frames = np.zeros((len(self.positions), 4, self.SIDE * self.CELL, self.SIDE * self.CELL), np.uint8)
        for index, (row, column) in enumerate(self.positions):
            frames[index, :, row * self.CELL:(row + 1) * self.CELL, column * self.CELL:(column + 1) * self.CELL] = 255
        return frames

    def send(self, actions):
        self.sent = actions

    def receive(self) -> atari.Transition:
        self.positions = np.clip(self.positions + self.MOVES[self.sent], 0, self.SIDE - 1)
        hit = (self.positions == self.SIDE // 2).all(axis=1)
        self.positions[hit] = self.rng.integers(0, self.SIDE, (hit.sum(), 2))
        self.time += 1
        self.scores += hit
        ended = self.time == self.LENGTH
        self.finished += [(float(score), self.LENGTH * 4) for score in self.scores[ended]]
        self.scores[ended], self.time[ended] = 0, 0
        self.frames = self.render()
        none = np.zeros(len(hit), bool)
        return atari.Transition(self.frames, hit.astype(np.float32), none, ended, self.frames)

    def close(self):
        pass


def mean_return(games: list) -> float:
    return float(np.mean([score for score, _ in games]))


def test_the_agent_learns_to_steer_onto_the_target():
    """Random play averages under 1 a game; A2C passes 5 within 500 updates (about 13 s of one core; seeds 0-2
    reached 10-11, steering nearly straight). Keras' RMSprop, whose mean square starts at 0, takes full steps at
    once; baselines' (test below) creeps for its first few hundred updates, which is no test of the loss."""
    keras.utils.set_random_seed(0)
    rollouts = rl_training.Rollouts([DotGames(8, 0), DotGames(8, 1)], nsteps=5)
    agent = A2CAgent(model_builders.a2c_network((4, 36, 36), DotGames.MOVES.shape[0]))
    agent.compile(optimizer=keras.optimizers.RMSprop(2e-3, rho=0.99, epsilon=1e-5, global_clipnorm=0.5))
    rng = np.random.default_rng(0)
    for _ in range(40):  # the untrained policy is uniform: random play
        rollouts.collect(agent.act, rng)
    random_play = mean_return(rollouts.finished())
    for _ in range(500):
        rl_training.update_once(agent, rollouts, rng, 0.9)
    rollouts.finished()
    for _ in range(40):
        rl_training.update_once(agent, rollouts, rng, 0.9)
    assert random_play < 1.0
    assert mean_return(rollouts.finished()) > 5.0


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    """A few thousand Ms. Pac-Man frames, then the same run asked for more: (folder, first metrics, resumed)."""
    out = tmp_path_factory.mktemp("rl") / "run"
    argv = ["--arch", "a2c_coordconv", "--frames", "3000", "--envs", "4", "--log-every", "1000", "--eval-episodes",
            "2", "--output", str(out), "--quiet", "--seed", "5"]
    first = rl_training.main(argv)
    resumed = rl_training.main([*argv[:3], "4500", *argv[4:]])
    return out, first, resumed


def test_train_rl_writes_its_files(short_run):
    out, first, _ = short_run
    for name in ("config.json", "history.csv", "metrics.json", "net_final.keras", "backup/agent.weights.h5"):
        assert (out / name).exists(), name
    assert first["frames"] == 3040 and len(first["history"]) == 3  # whole rollouts of 4 x 5 x 4 frames
    assert len(first["evaluation"]["returns"]) == 2 and first["evaluation"]["min"] > 0
    assert json.loads((out / "config.json").read_text())["coordconv_layers"] == "first"


def test_a_rerun_resumes_where_the_backup_left(short_run):
    out, first, resumed = short_run
    frames = [int(row["frames"]) for row in resumed["history"]]
    assert frames[:3] == [int(row["frames"]) for row in first["history"]] and frames[-1] == 4560
    assert resumed["updates"] == 57 and float(resumed["history"][-1]["time_s"]) > first["wall_time_s"]


def test_evaluate_alone_reads_the_runs_snapshot(short_run, capsys):
    out, first, _ = short_run
    result = rl_training.main(["--arch", "a2c_conv", "--evaluate", str(out), "--eval-episodes", "2"])
    assert json.loads((out / "evaluation.json").read_text())["returns"] == result["returns"]
    assert "evaluation on ms_pacman: 2 games" in capsys.readouterr().out


@pytest.mark.parametrize("flags, message", [
    (["--arch", "a2c_conv", "--game", "mspacman"], "unknown --game 'mspacman': did you mean ms_pacman"),
    (["--arch", "a2c_conv", "--frames", "0"], "--frames: must be > 0, got 0"),
    (["--arch", "a2c_conv", "--envs", "0"], "--envs: must be > 0, got 0"),
    (["--arch", "coordconv_classification"], "unknown --arch 'coordconv_classification'; choose one of: a2c_conv"),
    (["--arch", "a2c_conv", "--coords", "all"], "--coords chooses a2c_coordconv's CoordConv layers"),
    (["--arch", "a2c_conv", "-E", "3"], "-E/--epochs has no meaning for train_rl.py"),
    (["--arch", "a2c_conv", "--envs", "5", "--env-groups", "2"], "--envs 5 does not split evenly into --env-groups 2"),
    (["--arch", "a2c_conv", "--coords_init_scale", "0"],
     "--coords_init_scale scales CoordConv layers' weights; --arch a2c_conv has none"),
    (["--arch", "a2c_coordconv", "--coords_init_scale", "-1"], "--coords_init_scale -1.0 must be at least 0"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, flags, message):
    assert run_cli(rl_training.main, [*flags, "--output", str(tmp_path / "run")]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_evaluating_a_folder_without_a_snapshot_is_one_line(tmp_path, capsys):
    assert run_cli(rl_training.main, ["--arch", "a2c_conv", "--evaluate", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert f"--evaluate {tmp_path}: no .keras snapshot there" in error and error.count("\n") == 1


def test_the_study_writes_its_table_and_figure_and_reads_finished_runs(tmp_path, monkeypatch):
    from studies import reproduce_rl

    argv = ["--seeds", "0", "1", "--frames", "320", "--envs", "4", "--eval-episodes", "2", "--log-every", "160",
            "--results", str(tmp_path), "--reps", "200"]
    assert len(reproduce_rl.missing_commands(reproduce_rl.parse_args(argv))) == 4
    reproduce_rl.main(argv)
    table = (tmp_path / "table.md").read_text()
    assert table.count("| ms_pacman | a2c_conv |") == 2 and "| **ms_pacman** | **a2c_coordconv** | median" in table
    assert "4 of 4 runs finished" in table and "| ms_pacman | " in table.split("| call |")[1]
    assert "P(coordconv > conv)" in table and (tmp_path / "aggregate.png").exists()
    assert "Written by `python -m studies.reproduce_rl" in table and (tmp_path / "returns.png").exists()
    assert f", on {provenance.machine()}." in table and provenance.machine().endswith(" cores")
    results = json.loads((tmp_path / "results.json").read_text())
    assert [run["evaluation"]["episodes"] for run in results["runs"]] == [2] * 4
    assert set(results["aggregate"]["probability_of_improvement"]) == {"point", "low", "high"}
    assert reproduce_rl.missing_commands(reproduce_rl.parse_args(argv)) == []
    monkeypatch.setattr(rl_training, "main", lambda argv: pytest.fail("a finished run was trained again"))
    reproduce_rl.main(argv)
    reproduce_rl.main([*argv, "--report-only"])


def test_the_study_reports_a_part_done_campaign_and_lists_what_is_missing(tmp_path, capsys):
    """A nine-game study with no run in: the report says so and trains nothing; the commands name every run."""
    from studies import reproduce_rl

    argv = ["--games", "nine", "--results", str(tmp_path)]
    reproduce_rl.main([*argv, "--report-only"])
    assert "0 of 38 runs finished" in (tmp_path / "table.md").read_text() and "no aggregate" in capsys.readouterr().out
    reproduce_rl.main([*argv, "--print-commands"])
    commands = capsys.readouterr().out.splitlines()
    assert len(commands) == 38
    assert commands[0].startswith("python train_rl.py --arch a2c_conv --game asteroids --seed 0")
    assert sum("--game ms_pacman" in line for line in commands) == 6  # three seeds there, two elsewhere


def test_the_studys_coordconv_settings_name_its_coordconv_runs_and_report_and_share_the_conv_runs(tmp_path, capsys):
    from studies import reproduce_rl

    reproduce_rl.main(["--coords", "all", "--coords_init_scale", "0", "--seeds", "0", "--results", str(tmp_path),
                       "--print-commands"])
    conv, coordconv = capsys.readouterr().out.splitlines()
    assert "--coords" not in conv and conv.endswith(f"--output {tmp_path}/runs/ms_pacman_a2c_conv_seed0 --quiet")
    assert coordconv.endswith(f"--output {tmp_path}/runs/ms_pacman_a2c_coordconv-all-coordsinit0_seed0 --quiet "
                              "--coords all --coords_init_scale 0")
    args = rl_training.parse_args(shlex.split(coordconv)[2:])
    assert (args.coords, args.coords_init_scale) == ("all", 0.0)
    reproduce_rl.main(["--coords", "all", "--results", str(tmp_path), "--report-only"])
    assert "0 of 6 runs finished. a2c_coordconv here: --coords all.\n" in (tmp_path / "table-all.md").read_text()
    assert sorted(path.name for path in tmp_path.glob("*.*")) == ["results-all.json", "table-all.md"]


def test_the_study_sets_two_folders_side_by_side_and_names_the_settings_they_differ_in(tmp_path, capsys):
    """The committed earlier Ms. Pac-Man runs against copies of them with one setting and one score changed."""
    from studies import reproduce_rl

    earlier = ROOT / "docs/results/rl_value_mse"
    for run in ("ms_pacman_a2c_conv_seed0", "ms_pacman_a2c_coordconv_seed0"):
        shutil.copytree(earlier / "runs" / run, tmp_path / "runs" / run)
        config = json.loads((tmp_path / "runs" / run / "config.json").read_text())
        (tmp_path / "runs" / run / "config.json").write_text(json.dumps({**config, "value_loss": "half_mse"}))
    metrics_path = tmp_path / "runs/ms_pacman_a2c_conv_seed0/metrics.json"
    metrics = json.loads(metrics_path.read_text())
    metrics_path.write_text(json.dumps({**metrics, "evaluation": {**metrics["evaluation"], "mean": 1000.0}}))
    reproduce_rl.main(["--seeds", "0", "--report-only", "--results", str(tmp_path), "--compare", str(earlier),
                       "--reps", "100"])
    table = (tmp_path / "table.md").read_text()
    assert "| ms_pacman | a2c_conv | 0 | 400 / 400 | 539 / 539 | 1000 / 425 |" in table
    assert "| ms_pacman | a2c_coordconv | 0 | 605 / 605 | 588 / 588 | 545 / 545 |" in table
    assert 'Settings that differ (config.json, here / there): value_loss: "half_mse" / not recorded.' in table
    no_study = ["--report-only", "--results", str(tmp_path), "--compare", str(tmp_path / "none")]
    assert run_cli(reproduce_rl.main, no_study) == 2
    assert "no runs/ folder there" in capsys.readouterr().err


def test_the_run_average_is_the_mean_of_the_rows_where_a_game_had_ended():
    from studies import reproduce_rl

    history = [{"frames": "100", "return_mean": ""}, {"frames": "200", "return_mean": "10"},
               {"frames": "300", "return_mean": "40"}]
    assert reproduce_rl.run_average({"history": history}) == 25
    assert np.isnan(reproduce_rl.run_average({"history": history[:1]}))


def first_layer_pair(tmp_path) -> dict:
    """Both archs' networks as training builds them for Ms. Pac-Man seed 0, each in its run folder, unsaved."""
    networks = {}
    for arch, coords in (("a2c_conv", None), ("a2c_coordconv", "first")):
        folder = tmp_path / "runs" / f"ms_pacman_{arch}_seed0"
        folder.mkdir(parents=True)
        (folder / "config.json").write_text(json.dumps({"seed": 0, "coordconv_layers": coords}))
        keras.utils.set_random_seed(0)
        networks[arch] = (folder, model_builders.a2c_network((4, 84, 84), 9, coords))
    return networks


def first_layer_figures(tmp_path, networks: dict) -> dict:
    from studies import rl_first_layer

    for folder, network in networks.values():
        network.save(folder / "net_final.keras")
    rl_first_layer.main(["--results", str(tmp_path), "--games", "ms_pacman"])
    return json.loads((tmp_path / "first_layer.json").read_text())["pairs"][0]


def test_the_first_layer_figures_have_known_answers(tmp_path):
    """Untrained: no change; a bias far below zero: every unit-position dead; coordinate weights zeroed: a change
    of their whole norm and no offset."""
    from studies.rl_first_layer import first_conv

    networks = first_layer_pair(tmp_path)
    first_conv(networks["a2c_conv"][1]).bias.assign(np.full(32, -1e3))
    untrained = first_layer_figures(tmp_path, networks)
    assert untrained["change_frames"] == 0 and untrained["change_coordinates"] == 0
    assert untrained["offset_initial"] == untrained["offset_final"] > 1
    assert untrained["dead_conv"] == 1 and 0 < untrained["dead_coordconv"] < 1
    kernel = first_conv(networks["a2c_coordconv"][1]).kernel
    kernel.assign(np.concatenate([kernel.numpy()[:, :, :4], np.zeros_like(kernel.numpy()[:, :, 4:])], axis=2))
    blind = first_layer_figures(tmp_path, networks)
    assert blind["change_frames"] == 0 and blind["change_coordinates"] == pytest.approx(1)
    assert blind["offset_final"] == 0 and "| **median** | 1 pairs |" in (tmp_path / "first_layer.md").read_text()


def test_the_first_layer_rebuilds_a_runs_initial_network_from_its_seed(short_run):
    """A few dozen updates move the kernel a little; another seed's initial kernel would be sqrt(2) away."""
    from studies import rl_first_layer

    out, _, _ = short_run
    final = rl_first_layer.final_network(out)
    changes = rl_first_layer.kernel_changes(rl_first_layer.initial_network(out, 9), final)
    assert all(0 < change < 0.3 for change in changes)


@pytest.mark.parametrize("make_runs, message", [
    (False, "no runs/ folder there"),
    (True, "no game and seed with both archs' net_final.keras"),
])
def test_the_first_layer_without_finished_networks_is_one_line(tmp_path, capsys, make_runs, message):
    from studies import rl_first_layer

    if make_runs:
        (tmp_path / "runs").mkdir()
    assert run_cli(rl_first_layer.main, ["--results", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_a_run_finished_before_a_flag_existed_is_kept_and_one_trained_otherwise_is_cleared(tmp_path):
    from lab import backends
    from studies import reproduce_rl

    args = reproduce_rl.parse_args(["--results", str(tmp_path)])
    argv = reproduce_rl.train_argv(args, "ms_pacman", "a2c_coordconv", 0)
    config = {**vars(rl_training.parse_args(argv)), **backends.software()}
    folder = tmp_path / "run"
    for saved, kept in (({key: value for key, value in config.items() if key != "coords_init_scale"}, True),
                        ({**config, "coords_init_scale": 0.0}, False)):
        folder.mkdir(exist_ok=True)
        (folder / "config.json").write_text(json.dumps(saved))
        reproduce_rl.clear_if_stale_run(folder, argv)
        assert folder.exists() == kept
