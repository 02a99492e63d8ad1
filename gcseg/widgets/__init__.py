"""Interactive explorers for the notebooks: thin ``ipywidgets`` wrappers over :mod:`gcseg.viz`.

One submodule per topic.  Each explorer is a function returning an ``ipywidgets`` widget whose
callbacks only call a :mod:`gcseg.viz` function with the controls' values (no mutable globals),
so a test can set every control and check the output updated without an exception.
"""
