import subprocess
import sys

import numpy as np
import pytest

from skqg.cli import main


def test_ising_subcommand_writes_configurations(tmp_path, capsys):
    out = tmp_path / "ising.npz"
    status = main(
        [
            "ising",
            "--size",
            "8",
            "--temperature",
            "1.5",
            "3.5",
            "--n-samples",
            "40",
            "--out",
            str(out),
            "--seed",
            "0",
        ]
    )
    assert status == 0
    data = np.load(out)
    assert data["X"].shape == (40, 64) and data["X"].dtype == np.int8
    assert set(np.unique(data["X"])) <= {-1, 1}
    np.testing.assert_array_equal(data["temperature"], [1.5] * 20 + [3.5] * 20)
    s = data["X"].reshape(-1, 8, 8).astype(np.int64)
    energy = -(s * np.roll(s, -1, 1) + s * np.roll(s, -1, 2)).sum(axis=(1, 2)) / 64
    np.testing.assert_allclose(data["energy"], energy)
    captured = capsys.readouterr()
    assert "wrote 40 configurations" in captured.out
    assert "wolff" in captured.out and "metropolis" in captured.out
    assert "Ising 8x8" in captured.err  # the progress bar


def test_ising_binary_and_quiet(tmp_path, capsys):
    out = tmp_path / "bits.npz"
    assert (
        main(
            [
                "ising",
                "--size",
                "4",
                "--n-samples",
                "5",
                "--binary",
                "--quiet",
                "--out",
                str(out),
                "--seed",
                "1",
            ]
        )
        == 0
    )
    assert set(np.unique(np.load(out)["X"])) <= {0, 1}
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_same_seed_same_file(tmp_path):
    paths = [tmp_path / "a.npz", tmp_path / "b.npz"]
    for path in paths:
        main(
            [
                "ising",
                "--size",
                "6",
                "--n-samples",
                "20",
                "--quiet",
                "--seed",
                "3",
                "--out",
                str(path),
            ]
        )
    np.testing.assert_array_equal(np.load(paths[0])["X"], np.load(paths[1])["X"])


@pytest.mark.parametrize(
    "argv, message",
    [
        (["ising", "--size", "1"], "size must be an integer >= 2"),
        (["ising", "--temperature", "-2"], "temperature must be finite and > 0"),
        (["ising", "--temperature", "nan"], "temperature must be finite and > 0"),
        (["ising", "--coupling", "inf"], "coupling must be a finite real number"),
    ],
)
def test_bad_input_exits_with_a_message(argv, message, tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path / "x.npz"), "--quiet"]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()


def test_argparse_rejects_nonpositive_n_samples(capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(["ising", "--n-samples", "0"])
    assert excinfo.value.code == 2
    assert "expected an integer >= 1" in capsys.readouterr().err


def test_help_lists_subcommands_via_python_m():
    result = subprocess.run(
        [sys.executable, "-m", "skqg", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0
    assert "ising" in result.stdout


def test_no_subcommand_prints_help(capsys):
    assert main([]) == 2
    assert "subcommands" in capsys.readouterr().out
