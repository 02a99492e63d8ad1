"""Training GCSeg: three stages, checkpoints that resume exactly, DDP (paper Section IV-A).

Stages, run in order, each skipped when its step count is 0 (:mod:`~gcseg.train.stages`):

1. ``simulated`` -- pairs simulated from still images (Way-1 / Way-2,
   :mod:`gcseg.data.simulate`); sources from ``data.still_sources``: ``pascal-voc:<VOC2012>``,
   ``msra10k:<Imgs folder>`` and, offline, ``davis-stills`` (the training split's frames used
   as still images).  Off when ``train.simulated_pretraining`` is false (Table VII).
2. ``video`` -- (reference, target) pairs at random intervals from the training videos.
3. ``recurrent`` -- short clips; the model's own (soft) prediction of frame t-1 is the previous
   mask of frame t, gradients flow through the whole clip.

Each step minimises eq. 3 (:func:`gcseg.model.gcseg_loss`) with Adam, a poly, cosine or
constant learning-rate schedule (over stage 1, then anew over the video stages), gradient
clipping, and fp16 autocast on CUDA (:mod:`~gcseg.train.optimisation`).

Determinism and resuming: the samples of step ``s`` are a pure function of
``(seed, stage, s, rank)`` (see :mod:`gcseg.data.pairs`), and a checkpoint holds the weights,
the optimiser, the scheduler, the gradient scaler and the step.  A run stopped after k steps
and resumed therefore ends with the same weights as one that never stopped.

Distributed: started by ``torchrun --nproc_per_node N -m gcseg train --config FILE``, every
process trains a :class:`~torch.nn.parallel.DistributedDataParallel` replica on its own
samples (``gloo`` on CPU, ``nccl`` on CUDA); rank 0 writes logs and checkpoints
(:mod:`~gcseg.train.processes`).  The same command without ``torchrun`` is a single process.

Outputs in ``out_dir``: ``checkpoint.pt`` (latest), ``config.yaml``, ``log.csv`` (loss per
logged step), ``eval.csv`` (validation J&F per evaluation), ``summary.json``.  A new run refuses
a folder that holds an earlier run's files (:data:`RUN_FILES`: its logs would be appended to,
its checkpoint replaced); ``--resume`` continues such a run, anything else needs another folder.

Ctrl-C (SIGINT) and SIGTERM during :meth:`Trainer.run` do not kill the run mid-step: the step in
progress finishes, the checkpoint is saved at it, and :class:`TrainingInterrupted` is raised
(``python -m gcseg train`` prints how to resume and exits with 130 for SIGINT, 143 for SIGTERM,
the shell's 128 + signal number).  The resumed run ends bitwise identical to one that was never
stopped.  A second signal while the first is handled acts as usual (aborts without saving).

A wall-time budget (:class:`StepBudget`, :mod:`gcseg.short_run`) re-plans the step counts as
the run's own steps are timed.  The loss curves of a run are drawn by
:func:`gcseg.viz.training.plot_training`.
"""

from gcseg.train.budget import StepBudget
from gcseg.train.interrupt import TrainingInterrupted
from gcseg.train.logs import read_log, weights_digest
from gcseg.train.run_folder import RUN_FILES, check_run_folder
from gcseg.train.stages import STAGES, Stage, stage_loss, still_sources
from gcseg.train.trainer import RunLimits, Trainer, train

__all__ = [
    "RUN_FILES",
    "STAGES",
    "RunLimits",
    "Stage",
    "StepBudget",
    "Trainer",
    "TrainingInterrupted",
    "check_run_folder",
    "read_log",
    "stage_loss",
    "still_sources",
    "train",
    "weights_digest",
]
