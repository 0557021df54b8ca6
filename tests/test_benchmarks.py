import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_toy2d_benchmark_runs_and_prints_the_table():
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "toy2d.py"), "--fast"],
                            capture_output=True, text=True, check=True, timeout=300)
    lines = result.stdout.splitlines()
    assert "modes" in lines[1] and "high quality" in lines[1]
    assert lines[-1].startswith("mean: modes")
    assert len(lines) == 2 + 2 + 1  # header, column names, two seeds, the mean


def test_losses2d_benchmark_runs_and_lists_every_requested_loss():
    requested = ["nonsaturating", "wgan-gp", "r1:1"]
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "losses2d.py"), "--fast", "--losses", *requested],
                            capture_output=True, text=True, check=True, timeout=300)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("losses2d benchmark: 200 steps, 2 seeds")
    for column in ("dataset", "loss", "modes", "high quality %", "reverse KL", "seconds"):
        assert column in lines[1]
    results = lines[2:lines.index("published (quoted from the papers' tables, not run here):")]
    for dataset in ("ring", "grid"):
        assert [line.split()[1] for line in results if line.split()[0] == dataset] == requested
    assert any("PacGAN4" in line for line in lines)


def test_losses2d_reads_weights_and_learning_rates_and_runs_the_recommended_setting(monkeypatch):
    import importlib.util

    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # as when run as a script: its folder is on the path
    spec = importlib.util.spec_from_file_location("losses2d", ROOT / "benchmarks" / "losses2d.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.parse_spec("hinge") == ("hinge", None, {})
    assert bench.parse_spec("r1:1@3e-3") == ("r1", 1.0, {"lr": 3e-3})
    assert bench.parse_spec("lsgan@2e-3") == ("lsgan", None, {"lr": 2e-3})
    assert bench.parse_spec("recommended") == ("r1", 1.0, {"lr": 3e-3, "beta2": 0.99})
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "losses2d.py"), "--fast", "--recommended",
                             "--datasets", "ring"], capture_output=True, text=True, check=True, timeout=300)
    rows = [line for line in result.stdout.splitlines() if line.startswith("ring ")]
    assert rows[0].split()[1:3] == [bench.RECOMMENDED, "*"]
    bad = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "losses2d.py"), "--fast", "--losses", "hinge:1"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "has no penalty to weight" in bad.stderr


def test_dcgan_benchmark_prints_the_quality_table_and_the_throughput_ratio():
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "dcgan.py"), "--fast", "--threads", "1"],
                            capture_output=True, text=True, check=True, timeout=300)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("dcgan benchmark:")
    for column in ("classes", "label KL", "confident", "cond acc", "FID (real)", "KID (real)", "precision", "recall",
                   "seconds", "steps/s"):
        assert column in lines[1]
    rows = {line.split()[0]: line.split() for line in lines[2:4]}
    assert set(rows) == {"dcgan", "cgan"} and rows["dcgan"][5] == "-" and rows["cgan"][5].endswith("%")
    header = lines.index(next(line for line in lines if line.startswith("throughput:")))
    assert "fit steps/s" in lines[header + 1] and "ref steps/s" in lines[header + 1]
    rows = {line.split()[0]: line.split() for line in lines[header + 2:]}
    assert set(rows) == {"paper", "recipe"}
    for row in rows.values():
        fit_rate, ref_rate = float(row[3]), float(row[4])
        assert fit_rate > 0 and ref_rate > 0
        for ratio, low, high in (row[5:8], row[8:11]):  # fit's, and fit's with a fresh z
            assert float(low.strip("[,")) <= float(ratio) <= float(high.strip("]"))


def test_the_reference_loop_trains_the_players_as_fit_does():
    """The benchmark's yardstick is a real DCGAN loop: on the same batches and z it gives fit's weights."""
    import importlib.util

    import torch

    from ganlab.convnets import DCGANDiscriminator, DCGANGenerator
    from ganlab.train import TrainConfig, fit

    spec = importlib.util.spec_from_file_location("dcgan_bench", ROOT / "benchmarks" / "dcgan.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    torch.manual_seed(0)
    players = [(DCGANGenerator(latent_dim=8, channels=1, width=4, image_size=32),
                DCGANDiscriminator(channels=1, width=4, image_size=32))]
    players.append(tuple(__import__("copy").deepcopy(m) for m in players[0]))
    x = torch.rand(40, 1, 32, 32) * 2 - 1
    opts = [tuple(torch.optim.Adam(m.parameters(), lr=1e-3, betas=(0.5, 0.999)) for m in pair) for pair in players]
    fit(*players[0], x, TrainConfig(steps=3, batch_size=8, lr_g=1e-3, lr_d=1e-3, reuse_fakes=True, progress=False),
        opt_g=opts[0][0], opt_d=opts[0][1])
    bench.reference_loop(*players[1], x, *opts[1], steps=3, batch_size=8, batches=torch.Generator().manual_seed(0),
                         amp=False)
    for a, b in zip(players[0], players[1]):
        for p, q in zip(a.parameters(), b.parameters()):
            torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-5)


def test_small_data_benchmark_runs_each_variant_and_writes_its_rows(tmp_path):
    out = tmp_path / "small.csv"
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "small_data.py"), "--fast", "--seeds", "0",
                             "--variants", "minibatch-disc", "acgan", "--csv", str(out)],
                            capture_output=True, text=True, check=True, timeout=300)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("small-data benchmark: 30 steps")
    assert [line.split()[0] for line in lines[2:4]] == ["minibatch-disc", "acgan"]
    assert "%" in lines[3] and "-" in lines[2].split()  # conditional accuracy only for the cGAN
    rows = out.read_text().splitlines()
    assert rows[0].startswith("variant,seed,fid") and len(rows) == 3


def test_multiscale_d_benchmark_runs_every_variant(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "multiscale_d.py"), "--fast", "--seeds", "0",
                             "--threads", "1"], capture_output=True, text=True, check=True, timeout=300)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("multi-scale D benchmark")
    for variant in ("dcgan", "patchgan", "multiscale-2", "multiscale-3"):
        assert any(line.split()[:1] == [variant] for line in lines)


def test_multiscale_models_benchmark_trains_every_model_and_summarises_over_seeds(tmp_path):
    out = tmp_path / "models.csv"
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "multiscale_models.py"), "--fast", "--seeds",
                             "0", "1", "--threads", "1", "--csv", str(out)], capture_output=True, text=True, check=True,
                            timeout=300)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("multi-scale generators on MNIST at 32 px: 10 generator updates")
    models = ("dcgan", "lapgan", "lapgan-recipe", "progressive", "style")
    assert [line.split()[:2] for line in lines[2:12]] == [[m, s] for m in models for s in ("0", "1")]
    table = [line for line in lines if line.startswith("| ")]
    assert len(table) == 6 and all(line.count(" ± ") == 6 for line in table[1:])  # a header, a row per model
    rows = out.read_text().splitlines()
    assert rows[0].startswith("model,seed,steps,fid") and len(rows) == 11
    assert [row.split(",")[2] for row in rows[1:]] == ["10"] * 4 + ["3"] * 2 + ["10"] * 4  # updates done


def test_super_resolution_benchmark_scores_every_method(tmp_path):
    out = tmp_path / "sr.csv"
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "super_resolution.py"), "--fast", "--runs",
                             str(tmp_path / "runs"), "--alphas", "0.5", "--critic-seeds", "1", "--threads", "1",
                             "--csv", str(out)], capture_output=True, text=True, check=True, timeout=300)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("super-resolution x4 on the held-out images: SRResNet 16 channels, 2 blocks, 30 updates")
    rows = [line.split(" | ")[0].lstrip("| ") for line in lines if line.startswith("| ") and "---" not in line]
    assert rows == ["method", "bicubic", "bicubic (Pillow)", "SRResNet", "alpha 0.5", "SRGAN"]
    assert (tmp_path / "runs" / "srresnet" / "checkpoint.pt").is_file() and (tmp_path / "runs" / "srgan").is_dir()
    csv_rows = out.read_text().splitlines()
    assert csv_rows[0] == "method,image,psnr,ssim,consistency_psnr,patch_distance,critic_accuracy"
    assert len(csv_rows) == 1 + 5 * 2  # a row per method and held-out image


def test_vae_benchmark_trains_each_beta_and_reports_rate_and_distortion(tmp_path):
    out = tmp_path / "vae.csv"
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "vae.py"), "--fast", "--betas", "1", "4",
                             "--runs", str(tmp_path / "runs"), "--csv", str(out)], capture_output=True, text=True,
                            check=True, timeout=300)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("VAE benchmark: 40 steps per run, betas [1.0, 4.0]")
    rows = [line.split(" | ") for line in lines if line.startswith("| ") and line[2].isdigit()]
    assert [row[0].lstrip("| ") for row in rows] == ["1", "4"]
    rate = {row[0].lstrip("| "): float(row[5]) for row in rows}
    assert rate["4"] < rate["1"]  # a heavier KL weight buys a lower rate
    assert out.read_text().splitlines()[0].startswith("beta,free_bits,seed,elbo,iwae,distortion,rate")


def test_vae_vs_gan_benchmark_scores_every_model_and_the_references(tmp_path):
    out = tmp_path / "vae_vs_gan.csv"
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "vae_vs_gan.py"), "--fast", "--runs",
                             str(tmp_path / "runs"), "--csv", str(out)], capture_output=True, text=True, check=True,
                            timeout=600)
    rows = {line.split(" | ")[0].lstrip("| "): line.split(" | ") for line in result.stdout.splitlines()
            if line.startswith("| ") and not line.startswith("| model")}
    assert list(rows) == ["dcgan", "vae", "vae+gan", "independent pixels", "training digits"]
    assert rows["dcgan"][2] == "n/a" and rows["training digits"][2] == "n/a"
    assert -215 < float(rows["independent pixels"][2]) < -200  # exact: about -206.6 nats
    assert float(rows["vae"][2]) < 0 and float(rows["vae+gan"][2]) < 0
    assert float(rows["training digits"][3]) < float(rows["independent pixels"][3])  # FID: real digits beat noise
    assert len(out.read_text().splitlines()) == 1 + 5
    assert (tmp_path / "runs" / "vae_gan_seed0" / "metrics.json").is_file()


def test_cyclegan_benchmark_scores_each_variant_beside_the_references(tmp_path):
    out = tmp_path / "cyclegan.csv"
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "cyclegan.py"), "--fast", "--variants",
                             "default", "identity", "--threads", "1", "--runs", str(tmp_path / "runs"), "--csv",
                             str(out)], capture_output=True, text=True, check=True, timeout=600)
    rows = {line.split(" | ")[0].lstrip("| "): line.split(" | ") for line in result.stdout.splitlines()
            if line.startswith("| ") and not line.startswith("| variant")}
    assert list(rows) == ["default", "identity", "untranslated", "other target digits"]
    untranslated = rows["untranslated"]
    assert float(untranslated[2].rstrip("%")) > 90 and float(untranslated[3].rstrip("%")) > 90  # the classifier reads both
    assert float(rows["other target digits"][6]) < float(untranslated[6])  # FID: real B is nearer B than A is
    assert float(rows["other target digits"][7]) < float(untranslated[7])  # and real A nearer A than B is
    assert rows["other target digits"][2] == "n/a"
    assert len(out.read_text().splitlines()) == 1 + 4


def test_doctor_benchmark_counts_diagnoses_and_false_alarms():
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "doctor.py"), "--fast"], capture_output=True,
                            text=True, check=True, timeout=600)
    rows = [line.split(" | ") for line in result.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    verdicts = {row[0].lstrip("| "): row[3].rstrip(" |") for row in rows[1:]}
    assert verdicts == {"clinic: labels_swapped": "diagnosed", "clinic: labels_swapped, fixed": "quiet",
                        "fit: healthy, nonsaturating": "quiet"}
    assert "broken runs diagnosed: 1 of 1; false alarms: 0 of 2 healthy runs" in result.stdout
