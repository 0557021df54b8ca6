"""ganlab: the small PyTorch package behind the GAN course.

    import ganlab
    mix = ganlab.data.ring()                     # ring of 8 Gaussians
    G, D = ganlab.MLPGenerator(), ganlab.MLPDiscriminator()
    history = ganlab.fit(G, D, mix.sample, ganlab.TrainConfig(steps=2000))
    ganlab.metrics.mode_stats(G.sample(2500), mix)
"""

from . import (augment, checkpoint, checks, classifier, convnets, data, env, image_metrics, images, lapgan, lapgan_train,
               latent, losses, loop, metrics, multiscale, nets, plot, progressive, progressive_train, pyramids, singan,
               singan_train, sr_train, srgan, stylegan, superres, train, vae, vae_train)
from .checkpoint import CheckpointError, CheckpointWriteError, load_checkpoint, save_checkpoint
from .classifier import MNISTClassifier, load_classifier
from .augment import Augmented, DiffAugment
from .convnets import (ACGANDiscriminator, ConditionalBatchNorm2d, ConditionalDCGANGenerator, DCGANDiscriminator,
                       DCGANGenerator, ProjectionDiscriminator, dcgan_init_)
from .data import DownloadNotAllowed, GaussianMixture, load
from .env import downloads_allowed, fast, get_device, is_fast, seed_everything
from .images import NATURAL_IMAGES, natural_image
from .image_metrics import (
    class_histogram_stats, conditional_accuracy, evaluate_images, fid, kid, precision_recall,
)
from .losses import LOSSES, get_loss
from .loop import run_steps
from .metrics import evaluate_generator, mode_stats
from .nets import MLPDiscriminator, MLPGenerator
from .train import History, TrainConfig, TrainingDiverged, d_step, ema_of, fit, g_step, make_optimizers

__version__ = "0.1.0"

__all__ = [
    "augment", "checkpoint", "checks", "classifier", "convnets", "data", "env", "image_metrics", "images", "lapgan", "lapgan_train", "latent",
    "losses", "loop", "metrics", "multiscale", "nets", "plot", "progressive", "progressive_train", "pyramids", "singan",
    "singan_train", "sr_train", "srgan", "stylegan", "superres", "train", "vae", "vae_train",
    "CheckpointError", "CheckpointWriteError", "load_checkpoint", "save_checkpoint",
    "MNISTClassifier", "load_classifier",
    "Augmented", "DiffAugment",
    "ACGANDiscriminator", "ConditionalBatchNorm2d", "ConditionalDCGANGenerator", "DCGANDiscriminator", "DCGANGenerator",
    "ProjectionDiscriminator", "dcgan_init_",
    "DownloadNotAllowed", "GaussianMixture", "load", "NATURAL_IMAGES", "natural_image",
    "downloads_allowed", "fast", "get_device", "is_fast", "seed_everything",
    "class_histogram_stats", "conditional_accuracy", "evaluate_images", "fid", "kid", "precision_recall",
    "LOSSES", "get_loss", "run_steps",
    "evaluate_generator", "mode_stats",
    "MLPDiscriminator", "MLPGenerator",
    "History", "TrainConfig", "TrainingDiverged", "d_step", "ema_of", "fit", "g_step", "make_optimizers",
]
