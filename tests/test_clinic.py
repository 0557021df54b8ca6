"""The bug clinic: every case's bug does what the chapter says it does, its fix mends it, and the doctor names the
bug where its signals can show it (and stays quiet about every fixed run)."""

import pytest
import torch

from ganlab import clinic

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]
BROKEN = ("fakes_not_detached", "sigmoid_then_logits_loss", "labels_swapped", "broadcast_targets", "g_optimiser_on_d")
DIAGNOSED = {"sigmoid_then_logits_loss": "double_sigmoid", "labels_swapped": "d_prefers_fakes",
             "g_optimiser_on_d": "weights_frozen", "step_not_called": "weights_frozen",
             "batchnorm_joint_batch": "d_wins", "data_outside_tanh": "d_wins"}


@pytest.mark.parametrize("name", BROKEN)
def test_the_bug_breaks_training_and_the_fix_mends_it(name):
    result = clinic.run_case(name)
    buggy, fixed = result["buggy"], result["fixed"]
    assert fixed["modes_covered"] == 8 and fixed["reverse_kl"] < 0.6, "the fixed step should cover the ring"
    assert buggy["modes_covered"] <= 5 and buggy["reverse_kl"] > fixed["reverse_kl"] + 0.3
    assert fixed["doctor"] == []
    if name in DIAGNOSED:  # the others do not show in the signals the doctor reads (see ganlab.doctor)
        assert buggy["doctor"] == [DIAGNOSED[name]]


@pytest.mark.parametrize("name, message", [("bce_on_raw_logits", "between 0 and 1"),
                                           ("step_on_model", "has no attribute 'step'")])
def test_a_loud_bug_stops_at_once_and_its_fix_trains(name, message):
    result = clinic.run_case(name)
    assert message in result["buggy"]["error"]
    assert result["fixed"]["modes_covered"] == 8 and result["fixed"]["doctor"] == []


@pytest.mark.parametrize("name", ["step_not_called", "batchnorm_joint_batch", "data_outside_tanh",
                                  "gradient_penalty_dim"])
def test_a_silent_bug_leaves_no_mode_covered(name):
    result = clinic.run_case(name)
    buggy, fixed = result["buggy"], result["fixed"]
    assert buggy["modes_covered"] == 0
    assert fixed["modes_covered"] >= 5 and fixed["doctor"] == []
    if name in DIAGNOSED:
        assert DIAGNOSED[name] in buggy["doctor"]
    if name == "gradient_penalty_dim":  # the critic's gradient norm on the interpolates: 1 as asked, or far below
        ends = [sum(result[k]["history"]["grad_norm_mean"][-50:]) / 50 for k in ("buggy", "fixed")]
        assert ends[0] < 0.2 and abs(ends[1] - 1) < 0.05


def test_labels_that_require_grad_change_nothing():
    result = clinic.run_case("labels_require_grad")
    assert torch.equal(result["buggy"]["g_weights"], result["fixed"]["g_weights"])


def test_a_resume_with_the_optimiser_state_is_the_uninterrupted_run_and_one_without_is_not():
    result = clinic.run_case("optimiser_state_lost")
    straight = clinic.healthy_ring_run()
    assert torch.equal(result["fixed"]["g_weights"], straight["g_weights"])
    assert not torch.equal(result["buggy"]["g_weights"], straight["g_weights"])
    half = clinic.STEPS // 2
    updates = result["buggy"]["history"]["g_update"]
    assert updates[half] > 1.2 * sum(updates[half - 20:half]) / 20, "Adam's first step after losing its state"


def test_an_sr_network_that_never_sees_the_image_falls_far_below_bicubic():
    result = clinic.run_case("sr_never_sees_lr")
    bicubic = result["fixed"]["psnr_bicubic"]
    assert result["buggy"]["psnr"] < bicubic - 5 < result["fixed"]["psnr"] - 8


def test_a_perceptual_loss_fed_another_range_still_trains_here():
    result = clinic.run_case("perceptual_unnormalised")
    assert abs(result["buggy"]["psnr"] - result["fixed"]["psnr"]) < 0.5
    assert result["fixed"]["psnr"] > result["fixed"]["psnr_bicubic"] + 3


def test_a_vae_whose_terms_use_different_reductions_collapses():
    result = clinic.run_case("vae_reductions")
    buggy, fixed = result["buggy"], result["fixed"]
    assert buggy["kl"] < 0.1 and buggy["active_units"] == 0 and buggy["doctor"] == ["posterior_collapse"]
    assert fixed["kl"] > 10 and fixed["active_units"] >= 12 and fixed["doctor"] == []
    assert fixed["reconstruction_error"] < buggy["reconstruction_error"] / 2


def test_a_score_on_the_training_data_flatters_the_model():
    result = clinic.run_case("scored_on_training_data")
    assert result["buggy"]["reported_accuracy"] == 1.0
    assert result["buggy"]["held_out_accuracy"] == result["fixed"]["reported_accuracy"] < 0.9


def test_every_case_says_what_a_student_needs():
    assert len(clinic.CASES) >= 17
    for case in clinic.CASES.values():
        assert case.symptom and case.diagnosis and case.fix and case.steps > 0
        assert all(link.startswith("https://github.com/") for link in case.seen_in)
    with pytest.raises(ValueError, match="name"):
        clinic.run_case("no such bug")
