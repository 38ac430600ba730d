# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Bad inputs of the demo, the ONNX export and the checkpoint loading
(issue #21, docs/bad_input.md): no input is written over, an existing
output is replaced only with --overwrite, and a model that does not fit
its checkpoint never runs."""
import json
import subprocess
import sys

import pytest

pytest.importorskip('onnxruntime')
onnx = pytest.importorskip('onnx')

from helpers.deploy_helpers import REPO, TINY, make_image  # noqa: E402
from helpers.tool_loader import load_tool  # noqa: E402
DEMO = REPO / 'tools' / 'demo.py'


def make_video(path, frames=6, size=(64, 48)):
    import cv2
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 5,
                             size)
    for i in range(frames):
        writer.write(make_image(size[1], size[0], i))
    writer.release()
    return path.read_bytes()


def demo_main(*args):
    demo = load_tool('demo.py')
    return demo.main([str(a) for a in args])


def snapshot(folder):
    return {p: p.read_bytes() for p in sorted(folder.rglob('*'))
            if p.is_file()}


# --------------------------------------------------------------- demo
def test_demo_never_writes_over_an_input_video(tmp_path, tiny_onnx):
    """The video inside --out-dir: its output <name>.mp4 was the input,
    truncated while read (150 frames became 13), exit 0."""
    demo = load_tool('demo.py')
    out = tmp_path / 'clips'
    out.mkdir()
    video = out / 'clip.mp4'
    data = make_video(video)
    with pytest.raises(ValueError, match='is the input'):
        demo_main(video, '--onnx', tiny_onnx, '--out-dir', out)
    # another video: the folder holds data the demo did not write
    other = tmp_path / 'other.mp4'
    make_video(other)
    with pytest.raises(FileExistsError, match=r'did not write.*clip\.mp4'):
        demo_main(other, '--onnx', tiny_onnx, '--out-dir', out)
    # even in a folder of the demo's own, and with --overwrite
    (out / demo.MARKER).write_text('{}')
    with pytest.raises(ValueError, match='is the input'):
        demo_main(video, '--onnx', tiny_onnx, '--out-dir', out,
                  '--overwrite')
    assert video.read_bytes() == data
    assert sorted(p.name for p in out.iterdir()) == [demo.MARKER,
                                                     'clip.mp4']


def test_demo_never_writes_over_input_images(tmp_path, tiny_onnx):
    """The input folder at <out-dir>/vis: images were overwritten by drawn
    copies."""
    import cv2
    demo = load_tool('demo.py')
    vis = tmp_path / 'out' / 'vis'
    vis.mkdir(parents=True)
    cv2.imwrite(str(vis / 'a.png'), make_image(48, 64, 0))
    before = snapshot(tmp_path)
    with pytest.raises(ValueError, match='is the input'):
        demo_main(vis, '--onnx', tiny_onnx, '--out-dir', tmp_path / 'out')
    (tmp_path / 'out' / demo.MARKER).write_text('{}')
    with pytest.raises(ValueError, match='is the input'):
        demo_main(vis, '--onnx', tiny_onnx, '--out-dir', tmp_path / 'out',
                  '--overwrite')
    before[tmp_path / 'out' / demo.MARKER] = b'{}'
    assert snapshot(tmp_path) == before


def test_demo_outputs_are_replaced_only_with_overwrite(tmp_path, tiny_onnx):
    import cv2
    demo = load_tool('demo.py')
    imgs = tmp_path / 'imgs'
    imgs.mkdir()
    cv2.imwrite(str(imgs / 'a.png'), make_image(48, 64, 0))
    out = tmp_path / 'out'
    demo_main(imgs, '--onnx', tiny_onnx, '--out-dir', out)
    pred = out / 'preds' / 'a.json'
    pred.write_text('kept')
    with pytest.raises(demo.DemoError, match='pass --overwrite'):
        demo_main(imgs, '--onnx', tiny_onnx, '--out-dir', out)
    assert pred.read_text() == 'kept'
    demo_main(imgs, '--onnx', tiny_onnx, '--out-dir', out, '--overwrite')
    assert 'scores' in json.loads(pred.read_text())
    assert not [p for p in out.rglob('*') if '.tmp-' in p.name]


def test_demo_same_stem_images_get_their_own_outputs(tmp_path, tiny_onnx):
    """a.jpg and a.png wrote one preds/a.json."""
    import cv2
    imgs = tmp_path / 'imgs'
    imgs.mkdir()
    cv2.imwrite(str(imgs / 'a.jpg'), make_image(48, 64, 0))
    cv2.imwrite(str(imgs / 'a.png'), make_image(64, 48, 1))
    cv2.imwrite(str(imgs / 'b.png'), make_image(64, 48, 2))
    out = tmp_path / 'out'
    summary = demo_main(imgs, '--onnx', tiny_onnx, '--out-dir', out)
    assert summary['num_images'] == 3
    assert sorted(p.name for p in (out / 'preds').iterdir()) == [
        'a.jpg.json', 'a.png.json', 'b.json']
    assert sorted(p.name for p in (out / 'vis').iterdir()) == [
        'a.jpg', 'a.png', 'b.png']


def test_demo_unreadable_image_is_named_and_fails(tmp_path, tiny_onnx):
    import cv2
    imgs = tmp_path / 'imgs'
    imgs.mkdir()
    cv2.imwrite(str(imgs / 'a.png'), make_image(48, 64, 0))
    (imgs / 'broken.jpg').write_text('not an image')
    proc = subprocess.run(
        [sys.executable, str(DEMO), str(imgs), '--onnx', tiny_onnx,
         '--out-dir', str(tmp_path / 'out')],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr
    assert '1 image(s) could not be read' in proc.stderr
    assert 'broken.jpg' in proc.stderr
    # the readable one is done
    assert (tmp_path / 'out' / 'preds' / 'a.json').is_file()
    assert not (tmp_path / 'out' / 'preds' / 'broken.json').exists()


def test_demo_video_written_whole(tmp_path, tiny_onnx):
    import cv2
    video = tmp_path / 'clip.mp4'
    make_video(video, frames=5)
    summary = demo_main(video, '--onnx', tiny_onnx, '--out-dir',
                        tmp_path / 'out')
    assert summary['num_frames'] == 5
    cap = cv2.VideoCapture(str(tmp_path / 'out' / 'clip.mp4'))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 5
    cap.release()
    frames = json.loads((tmp_path / 'out' / 'clip.json').read_text())
    assert len(frames['frames']) == 5
    assert not [p for p in (tmp_path / 'out').iterdir()
                if '.tmp-' in p.name]


# ---------------------------------------------------- checkpoints (one rule)
@pytest.fixture(scope='module')
def headless_ckpt(tiny_ckpt, tmp_path_factory):
    """The tiny checkpoint without the head's weights."""
    import torch
    ckpt = torch.load(tiny_ckpt, weights_only=True)
    ckpt['state_dict'] = {k: v for k, v in ckpt['state_dict'].items()
                          if not k.startswith('bbox_head.')}
    path = tmp_path_factory.mktemp('headless') / 'headless.pth'
    torch.save(ckpt, str(path))
    return str(path)


def test_checkpoint_without_head_refused_alike(tmp_path, headless_ckpt):
    """demo.py ran it (random faces, exit 0); export_onnx.py refused it:
    both now apply load_checkpoint_strict."""
    export_onnx = load_tool('deployment/export_onnx.py')
    pattern = (r'does not fit the config: \d+ missing: bbox_head\.')
    with pytest.raises(ValueError, match=pattern) as from_export:
        export_onnx.main([str(TINY), headless_ckpt, '--out',
                          str(tmp_path / 'x.onnx')])
    with pytest.raises(ValueError, match=pattern) as from_demo:
        demo_main(tmp_path, '--config', TINY, '--checkpoint', headless_ckpt,
                  '--out-dir', tmp_path / 'out')
    assert str(from_demo.value) == str(from_export.value)
    assert not (tmp_path / 'out').exists() and not (tmp_path /
                                                    'x.onnx').exists()


def test_text_file_as_checkpoint(tmp_path):
    """It gave ``KeyError: 101``."""
    from hambox_mmdet.utils import read_checkpoint
    fake = tmp_path / 'model.pth'
    fake.write_text('this is not a checkpoint\n')
    with pytest.raises(ValueError, match=r'model\.pth is not a readable '
                       r'PyTorch checkpoint \(it is a text file'):
        read_checkpoint(str(fake))
    proc = subprocess.run(
        [sys.executable, str(DEMO), str(tmp_path), '--config', str(TINY),
         '--checkpoint', str(fake), '--out-dir', str(tmp_path / 'out')],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr
    assert 'not a readable PyTorch checkpoint' in proc.stderr


def test_tools_test_refuses_a_checkpoint_that_does_not_fit(
        tmp_path, headless_ckpt):
    proc = subprocess.run(
        [sys.executable, str(REPO / 'tools' / 'test.py'), str(TINY),
         headless_ckpt, '--work-dir', str(tmp_path / 'work')],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert 'does not fit the config' in proc.stderr
    assert 'missing: bbox_head.' in proc.stderr


# ------------------------------------------------------------ export
def test_failed_verify_keeps_the_previous_model(tmp_path, tiny_ckpt,
                                                monkeypatch):
    """--out was replaced before --verify ran: a failed check lost the
    previous model and left the unverified one."""
    import cv2
    export_onnx = load_tool('deployment/export_onnx.py')
    photo = tmp_path / 'photo.jpg'
    cv2.imwrite(str(photo), make_image(96, 128, 3))
    out = tmp_path / 'model.onnx'
    out.write_bytes(b'the previous model')
    monkeypatch.setattr(export_onnx, 'match_detections',
                        lambda *a: dict(ok=False, unmatched=3))
    with pytest.raises(RuntimeError, match='disagree'):
        export_onnx.main([str(TINY), tiny_ckpt, '--out', str(out),
                          '--shape', '96', '128', '--verify', str(photo),
                          '--overwrite'])
    assert out.read_bytes() == b'the previous model'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['model.onnx',
                                                          'photo.jpg']


def test_export_refuses_before_building(tmp_path, tiny_ckpt):
    export_onnx = load_tool('deployment/export_onnx.py')
    out = tmp_path / 'model.onnx'
    out.write_bytes(b'the previous model')
    with pytest.raises(FileExistsError, match='pass --overwrite'):
        export_onnx.main([str(TINY), tiny_ckpt, '--out', str(out)])
    bad = tmp_path / 'photo.jpg'
    bad.write_text('not an image')
    with pytest.raises(ValueError, match='photo.jpg: not a readable image'):
        export_onnx.main([str(TINY), tiny_ckpt, '--out', str(out),
                          '--overwrite', '--verify', str(bad)])
    with pytest.raises(ValueError, match='is the input'):
        export_onnx.main([str(TINY), tiny_ckpt, '--out', tiny_ckpt,
                          '--overwrite'])
    assert out.read_bytes() == b'the previous model'
    proc = subprocess.run(
        [sys.executable, str(REPO / 'tools' / 'deployment' /
                             'export_onnx.py'), str(TINY), tiny_ckpt,
         '--out', str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr
    assert 'pass --overwrite' in proc.stderr


@pytest.mark.parametrize('damage,message', [
    (lambda m: m.pop('test_cfg'), 'lacks test_cfg'),
    (lambda m: m['preprocess'].pop('mean'), 'lacks preprocess.mean'),
    (lambda m: m['anchors']['strides'].pop(), 'per-level lists'),
])
def test_damaged_onnx_metadata_is_named(tmp_path, tiny_onnx, damage,
                                        message):
    """It gave a bare KeyError."""
    from hambox_mmdet.deployment import METADATA_KEY, ONNXFaceDetector
    proto = onnx.load(tiny_onnx)
    entry = next(p for p in proto.metadata_props if p.key == METADATA_KEY)
    meta = json.loads(entry.value)
    damage(meta)
    entry.value = json.dumps(meta)
    damaged = tmp_path / 'damaged.onnx'
    onnx.save(proto, str(damaged))
    with pytest.raises(ValueError, match=f'damaged.onnx.*{message}'):
        ONNXFaceDetector(str(damaged))


def test_unmatched_anchor_analysis_refuses_a_checkpoint_that_does_not_fit(
        tmp_path, headless_ckpt):
    """A sibling of demo.py's case: it analysed a model with a random
    head."""
    import importlib.util
    path = REPO / 'tools' / 'analysis_tools' / 'unmatched_anchor_analysis.py'
    spec = importlib.util.spec_from_file_location('unmatched_tool', path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    with pytest.raises(SystemExit) as e:
        tool.main([str(TINY), headless_ckpt, '--json',
                   str(tmp_path / 'out.json')])
    assert 'does not fit the config' in str(e.value.code)
    assert not (tmp_path / 'out.json').exists()
    (tmp_path / 'out.json').write_text('earlier')
    with pytest.raises(SystemExit) as e:
        tool.main([str(TINY), headless_ckpt, '--json',
                   str(tmp_path / 'out.json')])
    assert 'pass --overwrite' in str(e.value.code)
    assert (tmp_path / 'out.json').read_text() == 'earlier'
