"""Checks for the exercise notebooks: ``checks.check_d_loss(my_d_loss)`` and friends.

Each check runs a student's function against the reference in ``ganlab`` on fixed inputs and
raises :class:`CheckFailed` saying exactly what is wrong; see ``core`` for the machinery and
``ch01``, ``ch02``, ... for each chapter's checks (a chapter with many is in two modules).
"""

from .ch01 import (check_d_loss, check_d_step, check_g_loss_minimax, check_g_loss_nonsaturating, check_jsd,
                   check_mode_coverage, check_optimal_discriminator, check_value_at_optimum)
from .ch02 import (check_d_loss_hinge, check_d_loss_lsgan, check_d_loss_wasserstein, check_g_loss_hinge,
                   check_g_loss_lsgan, check_g_loss_wasserstein)
from .ch02_lipschitz import (check_clip_weights, check_gradient_penalty, check_interpolates, check_r1_penalty,
                             check_top_singular_value)
from .ch03 import check_d_step_images, check_fid_from_features, check_generator_block
from .ch03_latent import check_lerp, check_slerp
from .ch04 import check_bilinear_updates, check_ema_update, check_projection_logit, check_truncated_normal
from .ch05 import check_adain, check_equalized_weight, check_fade_in, check_minibatch_stddev
from .ch05_singan import check_laplacian_pyramid, check_noise_amplitudes, check_reconstruct, check_singan_g_loss
from .ch06 import check_degrade, check_pixel_shuffle, check_psnr, check_rgb_to_y
from .ch06_srgan import check_content_loss, check_interpolate_networks, check_residual_block, check_srgan_g_loss
from .ch07 import check_bernoulli_log_likelihood, check_gaussian_kl, check_reparameterize
from .ch07_elbo import check_iwae_bound, check_latent_traversal_codes, check_negative_elbo
from .ch08 import (check_cycle_loss, check_cyclegan_d_step, check_identity_loss, check_image_pool, check_linear_decay,
                   check_lsgan_losses, check_receptive_field)
from .ch09 import (check_d_step_detached, check_g_step, check_least_squares_loss, check_logit_losses,
                   check_penalty_per_example, check_save_and_resume)
from .core import CheckFailed

__all__ = [
    "CheckFailed", "check_d_loss", "check_g_loss_minimax", "check_g_loss_nonsaturating",
    "check_optimal_discriminator", "check_jsd", "check_value_at_optimum", "check_mode_coverage", "check_d_step",
    "check_d_loss_lsgan", "check_g_loss_lsgan", "check_d_loss_wasserstein", "check_g_loss_wasserstein",
    "check_d_loss_hinge", "check_g_loss_hinge", "check_clip_weights", "check_interpolates", "check_gradient_penalty",
    "check_r1_penalty", "check_top_singular_value",
    "check_generator_block", "check_d_step_images", "check_lerp", "check_slerp", "check_fid_from_features",
    "check_bilinear_updates", "check_projection_logit", "check_truncated_normal", "check_ema_update",
    "check_laplacian_pyramid", "check_reconstruct", "check_fade_in", "check_minibatch_stddev", "check_equalized_weight",
    "check_adain", "check_noise_amplitudes", "check_singan_g_loss",
    "check_degrade", "check_rgb_to_y", "check_psnr", "check_pixel_shuffle", "check_residual_block",
    "check_content_loss", "check_srgan_g_loss", "check_interpolate_networks",
    "check_reparameterize", "check_gaussian_kl", "check_bernoulli_log_likelihood", "check_negative_elbo",
    "check_iwae_bound", "check_latent_traversal_codes",
    "check_cycle_loss", "check_identity_loss", "check_image_pool", "check_linear_decay", "check_receptive_field",
    "check_lsgan_losses", "check_cyclegan_d_step",
    "check_d_step_detached", "check_g_step", "check_logit_losses", "check_least_squares_loss",
    "check_penalty_per_example", "check_save_and_resume",
]
