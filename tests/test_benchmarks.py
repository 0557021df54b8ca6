import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_toy2d_benchmark_runs_and_prints_the_table():
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "toy2d.py"), "--fast"],
                            capture_output=True, text=True, check=True, timeout=300)
    lines = result.stdout.splitlines()
    assert "modes" in lines[1] and "high quality" in lines[1]
    assert lines[-1].startswith("mean: modes")
    assert len(lines) == 2 + 2 + 1  # header, column names, two seeds, the mean
