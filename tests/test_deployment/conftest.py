# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Fixtures of the deployment tests: a tiny-config checkpoint whose head
gives many boxes, exported once to ONNX with dynamic shapes, and test
images of several sizes and aspect ratios."""
import pytest
from helpers.deploy_helpers import SIZES, TINY, make_checkpoint, make_image
from helpers.tool_loader import load_tool


@pytest.fixture(scope='session')
def images():
    return [make_image(h, w, seed) for seed, (h, w) in enumerate(SIZES)]


@pytest.fixture(scope='session')
def tiny_ckpt(tmp_path_factory):
    return make_checkpoint(TINY, tmp_path_factory.mktemp('ckpt') / 'tiny.pth')


@pytest.fixture(scope='session')
def tiny_onnx(tiny_ckpt, tmp_path_factory):
    """The tiny model exported with dynamic batch, height and width."""
    export_onnx = load_tool('deployment/export_onnx.py')
    out = str(tmp_path_factory.mktemp('onnx') / 'tiny.onnx')
    summary = export_onnx.main(
        [str(TINY), tiny_ckpt, '--out', out, '--dynamic', '--shape', '128',
         '160'])
    assert summary['levels'] == 6
    return out


@pytest.fixture(scope='session')
def tiny_torch(tiny_ckpt):
    """The same checkpoint in PyTorch, through mmdet's init_detector."""
    from mmdet.apis import init_detector

    import hambox_mmdet  # noqa: F401
    return init_detector(str(TINY), tiny_ckpt, device='cpu')
