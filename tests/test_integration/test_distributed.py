# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Distributed training on CPUs: two gloo processes stay in sync, and
HAMBox's loss normalisers are averaged across them."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / 'configs' / 'hambox' / 'hambox_r18_fpn_tiny_widerface.py'

HOOK = '''
import json, os
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmdet.registry import HOOKS


@HOOKS.register_module()
class ParamDigestHook(Hook):
    """After every iteration, each rank writes its loss and a digest of
    every parameter."""

    def __init__(self, out_dir):
        self.out_dir = out_dir

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        model = getattr(runner.model, 'module', runner.model)
        digest = [float(p.detach().double().sum())
                  for p in model.parameters()]
        path = os.path.join(self.out_dir, f'rank{get_rank()}.jsonl')
        with open(path, 'a') as f:
            f.write(json.dumps(dict(
                iter=runner.iter, loss=float(outputs['loss']),
                world_size=runner.world_size, digest=digest)) + '\\n')
'''

CONFIG = '''
_base_ = {tiny!r}
custom_imports = dict(
    imports=['hambox_mmdet.models', 'hambox_mmdet.datasets',
             'hambox_mmdet.evaluation', 'param_digest_hook'],
    allow_failed_imports=False)
custom_hooks = [dict(type='ParamDigestHook', out_dir={out!r})]
train_cfg = dict(max_epochs=1)
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(indices=12))
val_cfg = None
val_dataloader = None
val_evaluator = None
'''


@pytest.mark.slow
def test_mim_train_two_cpu_processes_stay_in_sync(tmp_path, tiny_data):
    mim = shutil.which('mim', path=str(Path(sys.executable).parent))
    assert mim, 'mim is not installed: run tools/setup_env.sh'
    (tmp_path / 'param_digest_hook.py').write_text(HOOK)
    config = tmp_path / 'dist_cfg.py'
    config.write_text(CONFIG.format(tiny=str(TINY), out=str(tmp_path)))
    env = dict(
        os.environ,
        PYTHONPATH=str(tmp_path),
        HAMBOX_TINY_DATA=str(tiny_data),
        OMP_NUM_THREADS='1')
    proc = subprocess.run([
        mim, 'train', 'hambox_mmdet',
        str(config), '--launcher', 'pytorch', '--gpus', '2', '--work-dir',
        str(tmp_path / 'work')
    ],
                          env=env,
                          cwd=tmp_path,
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    ranks = [[
        json.loads(line)
        for line in (tmp_path / f'rank{r}.jsonl').read_text().splitlines()
    ] for r in (0, 1)]
    # 12 images, 2 per process and step: 3 steps
    assert [r['iter'] for r in ranks[0]] == [0, 1, 2]
    assert [r['iter'] for r in ranks[1]] == [0, 1, 2]
    assert ranks[0][0]['world_size'] == 2
    for a, b in zip(*ranks):
        # each process saw its own images ...
        assert a['loss'] != b['loss']
        # ... and the weights stayed identical after every step
        assert a['digest'] == b['digest']
    # and they did train
    assert ranks[0][0]['digest'] != ranks[0][-1]['digest']


def _average_normalisers(rank, world_size, init_file, out_file):
    dist.init_process_group(
        'gloo',
        init_method=f'file://{init_file}',
        rank=rank,
        world_size=world_size)
    from hambox_mmdet.models import HAMBoxHead
    # rank 0 has 3 compensated anchors, rank 1 has 6; none: averaged to 0
    mask = torch.zeros(10, dtype=torch.bool)
    mask[:3 * (rank + 1)] = True
    values = [
        HAMBoxHead._avg_factor(mask),
        HAMBoxHead._avg_factor(torch.zeros(10, dtype=torch.bool))
    ]
    Path(f'{out_file}.{rank}').write_text(json.dumps(values))
    # both ranks done before either tears gloo down (else it can abort)
    dist.barrier()
    dist.destroy_process_group()


def test_loss_normalisers_are_averaged_across_processes(tmp_path):
    mp.spawn(
        _average_normalisers,
        args=(2, str(tmp_path / 'init'), str(tmp_path / 'out')),
        nprocs=2)
    for rank in (0, 1):
        values = json.loads((tmp_path / f'out.{rank}').read_text())
        assert values == [4.5, 1.0]  # mean of 3 and 6; at least 1
