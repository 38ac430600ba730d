# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Registering hambox_mmdet's components the OpenMMLab way.

``import hambox_mmdet`` registers nothing. Each component subpackage
registers its own classes in mmdet's registries (scope ``mmdet``) when it is
imported, as mmdet's do:

- :mod:`hambox_mmdet.models`: ``HAMBoxHead``, ``RegressionAwareFocalLoss``
  (``MODELS``), ``FaceAnchorGenerator``, ``HAMBoxAssigner``,
  ``LevelATSSAssigner`` (``TASK_UTILS``);
- :mod:`hambox_mmdet.datasets`: ``WIDERFaceTxtDataset``, ``FDDBDataset``,
  ``FaceEvalDataset`` (``DATASETS``), ``LoadWIDERFaceAnnotations``,
  ``RandomSquareCrop``, ``DataAnchorSampling`` (``TRANSFORMS``);
- :mod:`hambox_mmdet.evaluation`: ``WIDERFaceMetric``, ``FDDBMetric``,
  ``FaceEvalMetric`` (``METRICS``).

A config names them (the mmpretrain convention)::

    custom_imports = dict(
        imports=['hambox_mmdet.models', 'hambox_mmdet.datasets',
                 'hambox_mmdet.evaluation'],
        allow_failed_imports=False)

and a script calls :func:`register_all_modules`, as mmdet's and mmyolo's
tools do.
"""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register all modules of mmdet and hambox_mmdet into mmdet's registries.

    Imports mmdet's registering subpackages (``mmdet.utils.
    register_all_modules(init_default_scope=False)``) and ours
    (``hambox_mmdet.models``, ``.datasets``, ``.evaluation``), and installs
    torch's ``weights_only`` allow-list for mmengine's checkpoints
    (:func:`hambox_mmdet.utils.register_mmengine_safe_globals`; the one
    global change the package makes, documented in
    :mod:`hambox_mmdet.utils.checkpoint`). Idempotent.

    Args:
        init_default_scope (bool): Whether to initialize the default scope
            as ``mmdet``, as ``mmdet.utils.register_all_modules`` does. When
            ``True``, the global default scope is set to ``mmdet`` and all
            registries build modules from mmdet's registry node (where our
            components are registered); when another default scope is
            current, it is replaced by a new ``mmdet`` one, with a warning.
            Tools that build a Runner pass ``False``: the Runner sets the
            config's ``default_scope``. Defaults to True.
    """
    from mmdet.utils import register_all_modules as register_mmdet_modules

    from .checkpoint import register_mmengine_safe_globals
    register_mmdet_modules(init_default_scope=False)
    register_mmengine_safe_globals()
    import hambox_mmdet.datasets  # noqa: F401,F403
    import hambox_mmdet.evaluation  # noqa: F401,F403
    import hambox_mmdet.models  # noqa: F401,F403

    if init_default_scope:
        never_created = DefaultScope.get_current_instance() is None \
                        or not DefaultScope.check_instance_created('mmdet')
        if never_created:
            DefaultScope.get_instance('mmdet', scope_name='mmdet')
            return
        current_scope = DefaultScope.get_current_instance()
        if current_scope.scope_name != 'mmdet':
            warnings.warn('The current default scope '
                          f'"{current_scope.scope_name}" is not "mmdet", '
                          '`register_all_modules` will force the current '
                          'default scope to be "mmdet". If this is not '
                          'expected, please set `init_default_scope=False`.')
            # avoid name conflict
            new_instance_name = f'mmdet-{datetime.datetime.now()}'
            DefaultScope.get_instance(new_instance_name, scope_name='mmdet')
