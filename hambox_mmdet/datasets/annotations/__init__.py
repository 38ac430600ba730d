# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Readers of the benchmarks' ground-truth files, one module per benchmark.

- :mod:`.wider`: the WIDER FACE evaluation ``.mat`` files
  (``eval_tools/ground_truth``);
- :mod:`.fddb`: the ``FDDB-folds`` ellipse lists and fold lists;
- :mod:`.face_eval`: the AFW / PASCAL Face ``.mat`` files of the Mathias et
  al. (ECCV 2014) toolkit;
- :mod:`.blocks`: the ``name / count / rows`` text layout shared by the
  FDDB files and the WIDER FACE submission files.

They live here so that the datasets read them without importing the
evaluation; :mod:`hambox_mmdet.evaluation` re-exports them (each
benchmark's ``annotations`` module). Nothing here imports torch or mmdet.
"""
from . import blocks, face_eval, fddb, wider

__all__ = ['blocks', 'face_eval', 'fddb', 'wider']
