"""The benchmark scripts run and print their tables (no timing is asserted: machines are noisy)."""

import sys

from bench import data as bench_data


def test_bench_data_prints_a_row_per_generator_step(monkeypatch, capsys):
    monkeypatch.setattr(bench_data, "CLEVR_COUNT", 200)
    monkeypatch.setattr(sys, "argv", ["bench.data", "--repeats", "1"])
    bench_data.main()
    rows = capsys.readouterr().out.strip().splitlines()[1:]
    assert [row.split()[:2] for row in rows] == [["not-so-clevr", "render"], ["not-so-clevr", "write"],
                                                 ["sort-of-clevr", "render"], ["sort-of-clevr", "write"]]
    assert all(float(row.split()[-1]) > 0 for row in rows)
