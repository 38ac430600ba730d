# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Let torch >= 2.6 load the checkpoints that mmengine's Runner writes.

Since torch 2.6, ``torch.load`` defaults to ``weights_only=True`` and refuses
any pickled global outside an allow-list. mmengine 0.10.7 calls ``torch.load``
without ``weights_only`` and its checkpoints hold a few non-tensor objects
(``HistoryBuffer`` in the message hub, numpy arrays and scalars inside it), so
``mim test --checkpoint``, ``resume`` and ``load_from`` fail with
``Unsupported global: ... HistoryBuffer``.

The fix keeps the safety check on: it adds to torch's allow-list exactly the
types mmengine writes, so a checkpoint that carries any other pickled object
is still refused. One of them is not a type: ``HistoryBuffer`` keeps its
statistics methods (``min``, ``max``, ``current``, ``mean``), which pickle as
``builtins.getattr(HistoryBuffer, 'min')``. Allowing ``getattr`` itself would
allow any attribute lookup, so the name ``builtins.getattr`` is bound to
:func:`history_buffer_getattr`, which performs only those lookups.
"""
from typing import List

import numpy as np
import torch


def history_buffer_getattr(obj: object, name: str) -> object:
    """``getattr`` restricted to what mmengine checkpoints pickle.

    Args:
        obj: must be mmengine's ``HistoryBuffer`` class.
        name (str): one of its registered statistics methods.

    Returns:
        The method ``HistoryBuffer.<name>``.

    Raises:
        pickle.UnpicklingError: for any other lookup.
    """
    import pickle

    from mmengine.logging.history_buffer import HistoryBuffer
    methods = HistoryBuffer._statistics_methods
    if obj is HistoryBuffer and (name in methods or name in (
            'min', 'max', 'current', 'mean')):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'refusing getattr({obj!r}, {name!r}) in a weights_only checkpoint: '
        'only the statistics methods of mmengine\'s HistoryBuffer are '
        'allowed')


def mmengine_checkpoint_globals() -> List[object]:
    """The globals that an mmengine 0.10.x Runner checkpoint pickles.

    Returns:
        list: classes and reconstruction functions to allow in
        ``torch.load(weights_only=True)``, and ``(history_buffer_getattr,
        'builtins.getattr')`` (see the module docstring).
    """
    from mmengine.logging.history_buffer import HistoryBuffer

    # numpy >= 2 moved ``numpy.core`` to ``numpy._core``; the pickles name the
    # module of the numpy that wrote them, so allow the function under both.
    multiarray = getattr(np, '_core', np.core).multiarray
    allowed = [
        HistoryBuffer,
        np.ndarray,
        np.dtype,
        multiarray._reconstruct,
        multiarray.scalar,
    ]
    # ``np.dtype(float64)`` pickles as its class ``numpy.dtypes.Float64DType``.
    allowed += [type(np.dtype(t)) for t in np.sctypeDict.values()
                if not issubclass(t, (np.object_, np.void))]
    allowed = list({id(g): g for g in allowed}.values())
    return allowed + [(history_buffer_getattr, 'builtins.getattr')]


def register_mmengine_safe_globals() -> bool:
    """Allow mmengine's checkpoint types in ``torch.load(weights_only=True)``.

    Idempotent; a no-op on torch < 2.4, which has no allow-list (and loads
    everything anyway).

    Returns:
        bool: whether anything was registered.
    """
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is None:
        return False
    add_safe_globals(mmengine_checkpoint_globals())
    return True
