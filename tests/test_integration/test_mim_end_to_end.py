# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""End to end the way users run it: `mim train` then `mim test` on the tiny
config, from a directory that holds nothing of ours, then the demo."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONFIG = 'hambox_r18_fpn_tiny_widerface.py'


def mim_bin() -> str:
    mim = shutil.which('mim', path=str(Path(sys.executable).parent))
    assert mim, ('mim is not installed next to this python: set up with '
                 'tools/setup_env.sh')
    return mim


def run(cmd, cwd, env, timeout=900):
    proc = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    return out


def last_json(text: str) -> dict:
    """The JSON object a tool printed last (it starts on its own line)."""
    start = text.rindex('\n{\n') + 1
    return json.loads(text[start:text.index('\n}', start) + 2])


@pytest.fixture(scope='module')
def trained(tmp_path_factory, tiny_data):
    """A few training iterations through `mim train` (1 epoch, 16 images)."""
    cwd = tmp_path_factory.mktemp('anywhere')
    env = dict(os.environ, HAMBOX_TINY_DATA=str(tiny_data))
    work = cwd / 'work'
    out = run([
        mim_bin(), 'train', 'hambox_mmdet', CONFIG, '--work-dir', work,
        '--cfg-options', 'train_cfg.max_epochs=1',
        'train_dataloader.dataset.indices=16', 'val_dataloader.dataset.indices=4'
    ], cwd, env)
    # mim found the config inside the installed package
    assert "doesn't exist but we find the config file" in out
    assert re.search(r'Epoch\(train\)\s*\[1\]\[4/4\]', out), out[-3000:]
    return cwd, env, work / 'epoch_1.pth'


@pytest.mark.slow
def test_mim_test_prints_the_three_aps(trained):
    cwd, env, ckpt = trained
    assert ckpt.is_file()
    out = run([
        mim_bin(), 'test', 'hambox_mmdet', CONFIG, '--checkpoint', ckpt,
        '--work-dir', cwd / 'test', '--cfg-options',
        'test_dataloader.dataset.indices=6',
        'test_evaluator.only_present_images=True',
        f'test_evaluator.outfile_prefix={cwd / "preds"}'
    ], cwd, env)
    # the checkpoint loaded through torch's weights_only check
    assert 'Load checkpoint from' in out
    assert 'Weights only load failed' not in out
    aps = {
        k: float(v)
        for k, v in re.findall(r'widerface/(easy|medium|hard): ([0-9.]+)', out)
    }
    assert set(aps) == {'easy', 'medium', 'hard'}
    assert all(0 <= v <= 1 for v in aps.values())
    assert 'only the 6 predicted images' in out
    # the official submission layout was written, one file per image
    assert len(list((cwd / 'preds').glob('*/*.txt'))) == 6
    # and the stand-alone command agrees with the metric on those files
    js = cwd / 'aps.json'
    run([
        sys.executable, REPO / 'tools' / 'eval_widerface.py', cwd / 'preds',
        '--gt-dir', Path(env['HAMBOX_TINY_DATA']) / 'eval_tools' /
        'ground_truth', '--only-present-images', '--json', js
    ], cwd, env)
    tool = json.loads(js.read_text())
    for k in aps:
        assert tool[k] == pytest.approx(aps[k], abs=1e-4)


@pytest.mark.slow
def test_demo_on_image_folder_and_video(trained, tiny_data):
    import cv2
    import numpy as np
    cwd, env, ckpt = trained
    config = REPO / 'configs' / 'hambox' / CONFIG
    images = sorted((tiny_data / 'WIDER_val' / 'images').glob('*/*.jpg'))
    out = run([
        sys.executable, REPO / 'tools' / 'demo.py', images[0], '--config',
        config, '--checkpoint', ckpt, '--out-dir', cwd / 'demo_img',
        '--score-thr', '0.0', '--cfg-options', 'model.test_cfg.score_thr=0.0'
    ], cwd, env)
    summary = last_json(out)
    assert summary['num_images'] == 1
    assert len(list((cwd / 'demo_img' / 'vis').glob('*.jpg'))) == 1
    pred = json.loads(next((cwd / 'demo_img' / 'preds').glob('*.json'))
                      .read_text())
    assert len(pred['bboxes']) == len(pred['scores']) > 0

    # a 3-frame video made of val images
    video = cwd / 'clip.mp4'
    writer = cv2.VideoWriter(
        str(video), cv2.VideoWriter_fourcc(*'mp4v'), 5, (320, 240))
    for path in images[:3]:
        writer.write(cv2.resize(cv2.imread(str(path)), (320, 240)))
    writer.release()
    run([
        sys.executable, REPO / 'tools' / 'demo.py', video, '--config',
        config, '--checkpoint', ckpt, '--out-dir', cwd / 'demo_vid'
    ], cwd, env)
    frames = json.loads((cwd / 'demo_vid' / 'clip.json').read_text())
    assert len(frames['frames']) == 3
    reader = cv2.VideoCapture(str(cwd / 'demo_vid' / 'clip.mp4'))
    ok, frame = reader.read()
    assert ok and frame.shape == (240, 320, 3) and np.any(frame)
