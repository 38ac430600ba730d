# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Bad inputs of the evaluators (issue #21, docs/bad_input.md): no failure
passes as a number, nothing the user owns is replaced without asking."""
import importlib.util
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from hambox_mmdet.evaluation.face_eval import (
    read_predictions as read_face_eval_dets,
    write_ground_truth as write_face_eval_gt)
from hambox_mmdet.evaluation.fddb import (
    read_prediction_file as read_detection_file)
from hambox_mmdet.evaluation.wider import (PRED_DIR_MARKER,
                                           read_predictions as read_pred_dir,
                                           write_predictions as write_pred_dir)

from helpers.wider_data import write_fake_mats  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
WIDER_TOOL = REPO / 'tools' / 'eval_widerface.py'
AFW_TOOL = REPO / 'tools' / 'eval_afw_pascal.py'
# the fake ground truth of test_wider_eval: 0--Parade/0_a (2 faces),
# 0--Parade/0_b (none), 1--Handshaking/1_a (300 faces)
PREDS = {
    '0--Parade/0_a': np.array([[1, 2, 3, 4, 0.9], [5, 6, 7, 8, 0.8]]),
    '0--Parade/0_b': np.zeros((0, 5)),
}


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def fake_gt(tmp_path_factory):
    folder = tmp_path_factory.mktemp('gt')
    write_fake_mats(folder)
    return folder


def wider_error(pred_dir, gt_dir, *extra):
    with pytest.raises(SystemExit) as e:
        load(WIDER_TOOL, 'eval_widerface').main(
            [str(pred_dir), '--gt-dir', str(gt_dir), *map(str, extra)])
    msg = str(e.value.code)
    assert msg.startswith('error: ') and '\n' not in msg, msg
    return msg


# ------------------------------------------------------------ WIDER FACE
@pytest.mark.parametrize('layout,why', [
    ('{d}/sub/{event}/{stem}.txt', 'too deep'),
    ('{d}/{stem}.txt', 'not in an event folder'),
    ('{d}/{event}/{stem}.jpg.txt', 'the official name is 0_a.txt'),
    ('{d}/9--Other/{stem}.txt', 'wrong event folder'),
])
def test_wider_files_off_the_layout_fail(tmp_path, fake_gt, layout, why):
    """Each used to give AP 0.0000 and exit 0."""
    path = Path(layout.format(d=tmp_path / 'preds', event='0--Parade',
                              stem='0_a'))
    path.parent.mkdir(parents=True)
    path.write_text('0_a\n1\n1 2 3 4 0.9\n')
    msg = wider_error(tmp_path / 'preds', fake_gt)
    assert 'do not follow the official layout' in msg and why in msg, msg


def test_wider_no_file_at_all_fails(tmp_path, fake_gt):
    (tmp_path / 'preds').mkdir()
    msg = wider_error(tmp_path / 'preds', fake_gt, '--only-present-images')
    assert 'no prediction file' in msg


def test_wider_undefined_ap_is_no_number(tmp_path, fake_gt):
    """--only-present-images over images without faces: 0 / 0. It used to
    write NaN into the JSON."""
    write_pred_dir(str(tmp_path / 'preds'),
                   {'0--Parade/0_b': np.array([[1, 2, 3, 4, 0.5]])})
    out = tmp_path / 'aps.json'
    msg = wider_error(tmp_path / 'preds', fake_gt, '--only-present-images',
                      '--json', out)
    assert 'AP is undefined' in msg and not out.exists()


def test_wider_existing_json_needs_overwrite(tmp_path, fake_gt, capsys):
    write_pred_dir(str(tmp_path / 'preds'), PREDS)
    out = tmp_path / 'aps.json'
    out.write_text('earlier result')
    msg = wider_error(tmp_path / 'preds', fake_gt, '--json', out)
    assert 'pass --overwrite' in msg and out.read_text() == 'earlier result'
    gt_file = fake_gt / 'wider_face_val.mat'
    msg = wider_error(tmp_path / 'preds', fake_gt, '--json', gt_file,
                      '--overwrite')
    assert 'is the input' in msg
    load(WIDER_TOOL, 'eval_widerface').main(
        [str(tmp_path / 'preds'), '--gt-dir', str(fake_gt), '--json',
         str(out), '--overwrite'])
    assert set(json.loads(out.read_text())) == {'easy', 'medium', 'hard'}


def test_wider_script_exit_status(tmp_path, fake_gt):
    (tmp_path / 'preds' / 'x').mkdir(parents=True)
    (tmp_path / 'preds' / 'x' / '0_a.jpg.txt').write_text('0_a\n0\n')
    proc = subprocess.run([sys.executable, str(WIDER_TOOL),
                           str(tmp_path / 'preds'), '--gt-dir', str(fake_gt)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr
    assert 'do not follow the official layout' in proc.stderr


def test_write_pred_dir_replaces_its_own_run_whole(tmp_path):
    """outfile_prefix kept the stale files of an earlier run: a mix."""
    out = tmp_path / 'sub'
    write_pred_dir(str(out), {'e/a': np.ones((1, 5)), 'f/b': np.ones((1, 5))})
    stale = write_pred_dir(str(out), {'e/c': np.ones((2, 5))})
    assert stale == ['e/a.txt', 'f/b.txt']
    files = sorted(str(p.relative_to(out)) for p in out.rglob('*')
                   if p.is_file())
    assert files == [PRED_DIR_MARKER, 'e/c.txt']
    preds, missing = read_pred_dir(str(out), ['e/a', 'e/c', 'f/b'])
    assert list(preds) == ['e/c'] and missing == ['e/a', 'f/b']


def test_write_pred_dir_refuses_foreign_files(tmp_path):
    (tmp_path / 'e').mkdir()
    (tmp_path / 'e' / 'mine.txt').write_text('a file of the user')
    with pytest.raises(FileExistsError, match=r'did not write.*e/mine.txt'):
        write_pred_dir(str(tmp_path), {'e/a': np.ones((1, 5))})
    assert sorted(p.name for p in tmp_path.rglob('*')) == ['e', 'mine.txt']


def test_wider_metric_outfile_prefix_has_no_stale_files(tmp_path):
    from hambox_mmdet.evaluation.metrics import WIDERFaceMetric
    prefix = tmp_path / 'submission'
    metric = WIDERFaceMetric(gt_dir=None, outfile_prefix=str(prefix))
    metric.compute_metrics([('e/a', np.ones((1, 5))),
                            ('e/b', np.ones((1, 5)))])
    metric.compute_metrics([('e/b', np.ones((2, 5)))])
    assert sorted(p.name for p in (prefix / 'e').iterdir()) == ['b.txt']


def test_wider_metric_refuses_a_foreign_folder_before_inference(tmp_path):
    from hambox_mmdet.evaluation.metrics import WIDERFaceMetric
    prefix = tmp_path / 'mine'
    prefix.mkdir()
    (prefix / 'notes.txt').write_text('keep me')
    with pytest.raises(FileExistsError, match='notes.txt'):
        WIDERFaceMetric(gt_dir=None, outfile_prefix=str(prefix))
    assert (prefix / 'notes.txt').read_text() == 'keep me'


# ------------------------------------------------------------ AFW / PASCAL
A, B = (10, 10, 109, 109), (200, 10, 299, 109)


@pytest.fixture
def afw(tmp_path):
    ann = tmp_path / 'new_annotations_AFW.mat'
    write_face_eval_gt(ann, ['1.jpg', '2.jpg'], [[1000, 1000]] * 2,
                       [np.array([A]), np.array([B])])
    return ann


def afw_run(*args):
    return load(AFW_TOOL, 'eval_afw_pascal').main([str(a) for a in args])


def afw_error(*args):
    with pytest.raises(SystemExit) as e:
        afw_run(*args)
    msg = str(e.value.code)
    assert msg.startswith('error: ') and '\n' not in msg, msg
    return msg


def test_afw_bom_is_not_a_false_positive(tmp_path, afw):
    """A byte-order mark stuck to the first image name: that detection
    became a false positive (97.21 -> 96.72 on the real DPM file)."""
    text = f'1 0.9 {" ".join(map(str, A))}\n2 0.8 {" ".join(map(str, B))}\n'
    plain, bom = tmp_path / 'plain.txt', tmp_path / 'bom.txt'
    plain.write_text(text)
    bom.write_bytes(b'\xef\xbb\xbf' + text.encode())
    assert read_face_eval_dets(bom).names.tolist() == ['1', '2']
    out = [tmp_path / 'p.json', tmp_path / 'b.json']
    load(AFW_TOOL, 'afw').main([str(plain), '--ann', str(afw), '--json',
                                str(out[0])])
    load(AFW_TOOL, 'afw').main([str(bom), '--ann', str(afw), '--json',
                                str(out[1])])
    p, b = (json.loads(o.read_text()) for o in out)
    assert p['ap'] == b['ap'] == 1.0
    assert b['num_detections_unknown_image'] == 0


def test_afw_dets_against_the_wrong_annotations_fail(tmp_path, afw):
    """AFW detections scored against the PASCAL .mat gave AP 0.00."""
    dets = tmp_path / 'dets.txt'
    dets.write_text('2008_000001 0.9 10 10 109 109\n')
    msg = afw_error(dets, '--ann', afw)
    assert 'none of the 1 detections' in msg and 'wrong annotation' in msg
    dets.write_text('')
    assert 'no detection' in afw_error(dets, '--ann', afw)


def test_afw_swapped_corners_are_counted(tmp_path, afw, capsys):
    dets = tmp_path / 'dets.txt'
    dets.write_text('1 0.9 10 10 109 109\n2 0.8 299 109 200 10\n'
                    '2 0.7 200 10 99 99\n')  # swapped; x y w h as x1 y1 x2 y2
    afw_run(dets, '--ann', afw)
    out = capsys.readouterr().out
    assert 'NOTE: 2 detection(s) with x2 < x1 or y2 < y1' in out
    assert 'first: line 2' in out
    # every box dropped: no number
    dets.write_text('1 0.9 109 109 10 10\n')
    assert 'drops every one' in afw_error(dets, '--ann', afw)


def test_afw_partly_unknown_images_are_counted(tmp_path, afw, capsys):
    dets = tmp_path / 'dets.txt'
    dets.write_text('1 0.9 10 10 109 109\nzzz 0.8 1 1 50 50\n')
    afw_run(dets, '--ann', afw)
    assert ("1 detection(s) on images that are not in new_annotations_AFW.mat"
            " count as false positives (first: line 2, 'zzz')"
            in capsys.readouterr().out)


def test_afw_outputs_never_replace_inputs(tmp_path, afw):
    dets = tmp_path / 'dets.txt'
    dets.write_text('1 0.9 10 10 109 109\n')
    assert 'is the input' in afw_error(dets, '--ann', afw, '--json', dets,
                                       '--overwrite')
    assert dets.read_text() == '1 0.9 10 10 109 109\n'
    plot = tmp_path / 'pr.png'
    plot.write_text('earlier')
    assert 'pass --overwrite' in afw_error(dets, '--ann', afw, '--plot', plot)
    assert plot.read_text() == 'earlier'


# ----------------------------------------------------------------- FDDB
def test_fddb_negative_width_is_warned_once(tmp_path):
    """hambox_mmdet/evaluation/fddb/io.py: it used to pass silently."""
    path = tmp_path / 'dets.txt'
    path.write_text('2002/08/11/big/img_591\n2\n10 10 -5 20 0.9\n'
                    '1 1 5 -5 0.5\n2002/08/11/big/img_592\n1\n1 1 5 5 0.5\n')
    with pytest.warns(UserWarning, match=r"2 box\(es\) of negative width or "
                      r"height in 1 image\(s\) \(first: '2002/08/11/big/"
                      r"img_591'\)") as record:
        dets = read_detection_file(str(path))
    assert len([w for w in record if 'negative' in str(w.message)]) == 1
    assert dets['2002/08/11/big/img_591'][0, 2] == -5  # kept as written
    path.write_text('a\n1\n1 1 5 5 0.5\n')
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        read_detection_file(str(path))
