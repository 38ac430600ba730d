# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The ``env`` section of ``benchmarks/gpu_suite.py``: what it runs on.

Python, torch, CUDA, the GPU, mmcv / mmdet / mmengine, and a check that
``mmcv.ops.nms`` (a compiled op: the one that fails when the mmcv wheel
does not fit torch) runs on a tensor of the device. ``gpu_suite.sh`` checks
the same op right after installing; this records it in the results.
"""
import platform

import torch


def check_env(device: str) -> dict:
    """The versions and the device; raises if ``mmcv.ops.nms`` is wrong."""
    import mmcv
    import mmdet
    import mmengine
    out = dict(
        python=platform.python_version(),
        torch=torch.__version__,
        cuda=torch.version.cuda,
        mmcv=mmcv.__version__,
        mmdet=mmdet.__version__,
        mmengine=mmengine.__version__,
        device=device,
        cpu_threads=torch.get_num_threads())
    if device.startswith('cuda'):
        props = torch.cuda.get_device_properties(device)
        out.update(gpu=props.name,
                   gpu_memory_gib=round(props.total_memory / 2**30, 1),
                   compute_capability=f'{props.major}.{props.minor}')
    from mmcv.ops import nms
    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]],
                         dtype=torch.float32, device=device)
    scores = torch.tensor([0.9, 0.8, 0.7], device=device)
    _, keep = nms(boxes, scores, 0.5)
    out['mmcv_ops_nms'] = dict(device=str(keep.device),
                               ok=keep.cpu().tolist() == [0, 2])
    if not out['mmcv_ops_nms']['ok']:
        raise RuntimeError(f'mmcv.ops.nms on {device} kept {keep.tolist()}, '
                           'expected [0, 2]')
    print(f"env: {out}", flush=True)
    return out
