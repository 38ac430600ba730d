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

Global state: besides registering its classes in mmdet's registries (and
the default scope ``register_all_modules()`` sets, as mmdet's does),
:func:`register_mmengine_safe_globals` is the one change to process-wide
state this package makes: it adds to torch's allow-list
(``torch.serialization.add_safe_globals``) and never switches
``weights_only`` off. It is explicit and idempotent (the allow-list is a
set; calling it again adds nothing), and it runs:

- in :func:`hambox_mmdet.utils.register_all_modules` (tools/train.py,
  tools/test.py and the other tools call that);
- on ``import hambox_mmdet.models``, so that a config whose
  ``custom_imports`` is the only registration (``mim test --checkpoint``,
  ``resume``, ``load_from`` in a process that never calls
  ``register_all_modules``) loads its checkpoints too;
- in :func:`read_checkpoint` before it loads a file.

``import hambox_mmdet``, :mod:`hambox_mmdet.deployment` and
:mod:`hambox_mmdet.safe_io` leave it alone (they import no torch). To undo
it, ``torch.serialization.clear_safe_globals()`` empties the allow-list.

:func:`load_checkpoint_strict` is the one rule the tools share for "this
checkpoint fits this config" (same keys, same shapes), with an error that
names the file when it is not a checkpoint at all.
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


def read_checkpoint(checkpoint: str) -> dict:
    """Read a checkpoint file, with an error that names it when it is not
    one.

    ``torch.load(weights_only=True)`` with mmengine's types allowed
    (:func:`register_mmengine_safe_globals`).

    Returns:
        dict: ``state_dict`` (keys without a ``module.`` prefix) and
        ``meta`` (``{}`` where the file has none).

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a PyTorch checkpoint (a text file, an ONNX model,
            a truncated download ...) or one without a state dict of
            tensors.
    """
    import os.path as osp
    checkpoint = str(checkpoint)
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
    register_mmengine_safe_globals()
    try:
        ckpt = torch.load(checkpoint, map_location='cpu', weights_only=True)
    except Exception as e:  # torch raises many types for a non-checkpoint
        with open(checkpoint, 'rb') as f:
            head = f.read(64)
        what = ''
        if head[:4] == b'PK\x03\x04' or head[:2] == b'\x80\x02':
            what = ' (a damaged or truncated checkpoint?)'
        elif head and all(32 <= b < 127 or b in b'\t\r\n' for b in head):
            what = f' (it is a text file, starting {head[:40]!r})'
        raise ValueError(f'{checkpoint} is not a readable PyTorch checkpoint'
                         f'{what}: {type(e).__name__}: {e}') from None
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict) or not state or not all(
            isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f'{checkpoint} holds no state_dict of tensors '
                         f'(found {type(ckpt).__name__})')
    state = {k[7:] if k.startswith('module.') else k: v
             for k, v in state.items()}
    meta = ckpt.get('meta') if isinstance(ckpt.get('meta'), dict) else {}
    return dict(state_dict=state, meta=meta)


def check_state_dict_fits(model: torch.nn.Module, state: dict,
                          checkpoint: str) -> None:
    """The one rule for "a checkpoint fits the config": the same keys as
    the model's ``state_dict`` and the same shapes.

    Raises:
        ValueError: naming the mis-shaped, missing and unexpected keys
            (the first five of each, with their numbers).
    """
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = [f'{k}: checkpoint {tuple(state[k].shape)} vs model '
              f'{tuple(own[k].shape)}' for k in sorted(set(own) & set(state))
              if tuple(state[k].shape) != tuple(own[k].shape)]
    if not (missing or unexpected or shapes):
        return

    def few(items: List[str]) -> str:
        return ', '.join(items[:5]) + (
            f' (+{len(items) - 5} more)' if len(items) > 5 else '')

    parts = []
    if shapes:
        parts.append(f'{len(shapes)} with other shapes: {few(shapes)}')
    if missing:
        parts.append(f'{len(missing)} missing: {few(missing)}')
    if unexpected:
        parts.append(f'{len(unexpected)} unexpected: {few(unexpected)}')
    raise ValueError(f'checkpoint {checkpoint} does not fit the config: ' +
                     '; '.join(parts))


def load_checkpoint_strict(model: torch.nn.Module, checkpoint: str) -> dict:
    """Load a checkpoint that must fit ``model`` exactly
    (:func:`check_state_dict_fits`); used by ``tools/demo.py``,
    ``tools/deployment/export_onnx.py``, ``tools/test.py`` and
    ``tools/analysis_tools/unmatched_anchor_analysis.py``.

    Returns:
        dict: the checkpoint's ``meta`` (``{}`` if none).

    Raises:
        FileNotFoundError, ValueError: see :func:`read_checkpoint` and
        :func:`check_state_dict_fits`.
    """
    ckpt = read_checkpoint(checkpoint)
    check_state_dict_fits(model, ckpt['state_dict'], checkpoint)
    model.load_state_dict(ckpt['state_dict'], strict=True)
    return ckpt['meta']
