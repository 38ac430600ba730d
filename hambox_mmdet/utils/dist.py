# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Distributed training on CPUs (gloo) with mmengine 0.10.

mmengine's ``pytorch`` launcher assumes CUDA: it calls
``torch.cuda.set_device`` before creating the process group and wraps the
model in DDP with ``device_ids=[local_rank]``, both of which fail without a
GPU. With GPUs nothing here changes anything.
"""
import os

import torch
import torch.distributed as torch_dist
from mmengine.config import Config


def setup_cpu_distributed(cfg: Config, launcher: str) -> bool:
    """Prepare ``cfg`` for a CPU-only multi-process run, if that is one.

    When ``launcher`` is not ``'none'`` and no GPU is available, this creates
    the gloo process group itself (so mmengine does not try the CUDA path)
    and makes the runner wrap the model in DDP without device ids.

    Args:
        cfg (Config): The config, modified in place.
        launcher (str): The ``--launcher`` of tools/train.py and test.py.

    Returns:
        bool: whether the CPU distributed set-up was applied.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if launcher != 'pytorch':
        raise RuntimeError(
            f'launcher {launcher!r} without GPUs is not supported; use '
            "'pytorch' (e.g. mim train ... --launcher pytorch --gpus N, or "
            'torchrun) for multi-process CPU runs')
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    cfg.env_cfg.dist_cfg['backend'] = 'gloo'
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(
            backend='gloo',
            rank=int(os.environ['RANK']),
            world_size=int(os.environ['WORLD_SIZE']))
    wrapper = dict(cfg.get('model_wrapper_cfg') or {})
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper['device_ids'] = None
    wrapper.setdefault('broadcast_buffers', False)
    wrapper.setdefault('find_unused_parameters',
                       cfg.get('find_unused_parameters', False))
    cfg.model_wrapper_cfg = wrapper
    return True
