"""gcseg: an educational reproduction of GCSeg.

"Guided Co-Segmentation Network for Fast Video Object Segmentation" (Liu, Lin, Zhang, Liu).
Semi-supervised video object segmentation: given the object masks of the first frame, segment
the objects in every later frame.

The package, one line a room (``ARCHITECTURE.md`` has the layers, the box -> file map of
Figure 1, where data flows and what may import what):

- :mod:`gcseg.runtime` -- run-time switches read in one place: quick mode, device, threads,
  seeds, provenance.
- :mod:`gcseg.files` -- every file and folder writer: atomic files, staged results folders.
- :mod:`gcseg.config` -- the configuration tree, the allowed choices, presets, YAML load/save.
- :mod:`gcseg.data` -- the DAVIS 2016/2017 layout (reader, writer, checks, converters), the
  training pairs and augmentation, and the built-in synthetic benchmark.
- :mod:`gcseg.metrics` -- the DAVIS measures J (region) and F (contour).
- :mod:`gcseg.model` -- the network, one module per box of Figure 1, and the loss (eq. 3).
- :mod:`gcseg.checkpoint` -- checkpoints written atomically and read safely; the shipped model.
- :mod:`gcseg.foundation` -- the offline stand-in for ImageNet weights.
- :mod:`gcseg.inference` -- segmenting whole videos: references, Adaptive Search, objects.
- :mod:`gcseg.evaluation` -- the DAVIS evaluator of a results folder.
- :mod:`gcseg.baselines` -- reference points such as copying the first-frame mask.
- :mod:`gcseg.scoring` -- segment a split, then score it: the one path to J, F and J&F.
- :mod:`gcseg.train` -- training in three stages, resumable checkpoints, DDP.
- :mod:`gcseg.short_run` -- short runs from the foundation fitted to a wall-time budget.
- :mod:`gcseg.ablation` -- the paper's ablations (Tables V-VII) with one protocol.
- :mod:`gcseg.speed` -- speed of the inference engine (the Time(s) columns of Tables II-IV).
- :mod:`gcseg.model_card` -- the JSON card beside a shared checkpoint.
- :mod:`gcseg.demo` -- the main job on the synthetic benchmark (``make demo``).
- :mod:`gcseg.viz` -- figures for notebooks and reports: plain functions, arrays or figures.
- :mod:`gcseg.widgets` -- interactive explorers: thin ``ipywidgets`` wrappers over :mod:`gcseg.viz`.
- :mod:`gcseg.notebook` -- what every notebook needs: data, a trained model, quick-mode sizes.
- :mod:`gcseg.cli` -- ``python -m gcseg <command>``: the command line for every job.
"""

__version__ = "0.1.0"
