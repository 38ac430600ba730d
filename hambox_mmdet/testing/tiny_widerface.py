# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Write the small generated face set in the official WIDER FACE layout.

The generator behind ``tools/misc/make_tiny_widerface.py`` (a thin command
line over :func:`main`), importable as ``hambox_mmdet.testing`` the way mmdet
ships ``mmdet.testing`` (tests and the quick start use it)::

    python tools/misc/make_tiny_widerface.py [OUT_DIR]    # in the repository
    mim run hambox_mmdet make_tiny_widerface [OUT_DIR]    # installed package

writes, deterministically for a seed (the same bytes on every run)::

    OUT_DIR/WIDER_train/images/<event>/<name>.jpg
    OUT_DIR/WIDER_val/images/<event>/<name>.jpg
    OUT_DIR/wider_face_split/wider_face_{train,val}_bbx_gt.txt
    OUT_DIR/eval_tools/ground_truth/wider_face_val.mat
    OUT_DIR/eval_tools/ground_truth/wider_{easy,medium,hard}_val.mat
    OUT_DIR/.synthetic_widerface.json        (the parameters and face counts)

``OUT_DIR`` defaults to ``~/.cache/hambox_mmdet/widerface_tiny``, where the
quick start and ``hambox_r18_fpn_tiny_widerface.py`` look. The text files
follow the official format exactly (trailing space on face lines; images
without faces written both ways found in the wild: ``0`` plus a line of ten
zeros, and ``1`` plus an all-zero box; some ``invalid = 1`` faces and some
zero-size boxes). The ``.mat`` files have the MATLAB structure of the
official evaluation ground truth (cell arrays, ``int32`` boxes ``x y w h``,
``uint8`` labels, 1-based ``gt_list`` in ``uint8``, or ``uint16`` above 255).
Easy, Medium and Hard keep the valid faces of at least
:data:`SETTING_MIN_SIZES` pixels (``sqrt(w * h)``), so Easy is inside Medium
inside Hard and invalid or zero-size faces are in none.

Faces are skin-toned ellipses with two dark eyes and a mouth, 12 to 120
pixels, on textured backgrounds with face-like distractors (blobs without
eyes), so a small CNN learns them in a few CPU minutes. The default set
(:data:`DEFAULTS`: what the quick start, ``hambox_r18_fpn_tiny_widerface.py``
and the tests use) takes about 10 s on 2 CPU cores.

Files are only ever written, never deleted, each under a temporary name
moved into place when complete. The tool writes only into a new or empty
folder or one that holds its manifest (a set it wrote before): a folder
holding anything else (real WIDER FACE images, ``eval_tools/`` of a partial
download, ...) is refused, naming what is in it. ``--skip-existing``
returns at once where the folder already holds the set with the same
parameters.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from hambox_mmdet.safe_io import (atomic_output, describe_entries,
                                  write_bytes, write_text)

#: The default set: the one place for its parameters.
DEFAULTS = dict(
    num_train=200,
    num_val=50,
    img_size=(448, 384),
    seed=0,
    size_jitter=0.3,
    faces_per_image=(2, 15),
    face_size_range=(12, 120),
    jpeg_quality=92)
#: Where the quick start and ``hambox_r18_fpn_tiny_widerface.py`` look.
DEFAULT_ROOT = '~/.cache/hambox_mmdet/widerface_tiny'
#: Bumped whenever the generated content changes.
GENERATOR_VERSION = 1
#: Written by this tool: the parameters, then (when done) the face counts.
MANIFEST = '.synthetic_widerface.json'
#: Events used, in the lexicographic order of the official files.
EVENTS = ('0--Parade', '1--Handshaking', '12--Group', '2--Demonstration',
          '4--Dancing', '9--Press_Conference')
#: Minimum face size ``sqrt(w * h)`` (pixels) of each evaluation setting.
SETTING_MIN_SIZES = dict(easy=48.0, medium=24.0, hard=10.0)
LABEL_NAMES = ('blur', 'expression', 'illumination', 'invalid', 'occlusion',
               'pose')
# Skin tones, BGR.
_SKIN_TONES = np.array([[189, 224, 255], [148, 192, 241], [123, 169, 224],
                        [96, 135, 198], [66, 103, 161], [45, 67, 110]],
                       dtype=np.float64)


def _image_rng(seed: int, split: str, index: int) -> np.random.Generator:
    split_id = dict(train=0, val=1)[split]
    return np.random.default_rng([seed, split_id, index])


def _background(rng: np.random.Generator, width: int,
                height: int) -> np.ndarray:
    """Textured background: low-frequency colour noise, shapes, grain."""
    cells = rng.integers(3, 9)
    coarse = rng.uniform(0, 255, size=(cells, cells, 3)).astype(np.float32)
    img = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    for _ in range(int(rng.integers(4, 12))):
        color = tuple(float(c) for c in rng.uniform(0, 255, 3))
        x1, x2 = sorted(rng.integers(0, width, 2).tolist())
        y1, y2 = sorted(rng.integers(0, height, 2).tolist())
        kind = rng.integers(3)
        if kind == 0:
            cv2.rectangle(img, (x1, y1), (x2, y2), color, -1)
        elif kind == 1:
            cv2.line(img, (x1, y1), (x2, y2), color, int(rng.integers(1, 6)))
        else:
            cv2.circle(img, (x1, y1), int(rng.integers(5, 40)), color, -1)
    img += rng.standard_normal(img.shape, dtype=np.float32) * 8
    return img


def _draw_face(img: np.ndarray,
               rng: np.random.Generator,
               box: np.ndarray,
               attrs: Dict[str, int],
               with_features: bool = True) -> None:
    """Draw one face (or, without features, a face-like distractor blob).

    Args:
        img (np.ndarray): (H, W, 3) float32 canvas, drawn in place.
        box (np.ndarray): ``x y w h`` of the face.
        attrs (dict): Attribute values chosen for the face.
        with_features (bool): Draw eyes and mouth.
    """
    x, y, w, h = (float(v) for v in box)
    cx, cy = x + w / 2, y + h / 2
    shift = 4  # sub-pixel precision of cv2 drawing
    scale = 1 << shift

    def pt(px: float, py: float) -> Tuple[int, int]:
        return int(round(px * scale)), int(round(py * scale))

    def axes(ax: float, ay: float) -> Tuple[int, int]:
        return max(int(round(ax * scale)), 1), max(int(round(ay * scale)), 1)

    skin = _SKIN_TONES[rng.integers(len(_SKIN_TONES))] + rng.normal(0, 10, 3)
    if attrs['illumination']:
        skin = skin * rng.uniform(0.3, 0.5)
    skin = tuple(float(c) for c in np.clip(skin, 0, 255))
    if with_features and rng.random() < 0.5:  # hair
        hair = tuple(float(c) for c in rng.uniform(0, 80, 3))
        cv2.ellipse(img, pt(cx, cy - h * 0.08), axes(w * 0.55, h * 0.52), 0,
                    180, 360, hair, -1, cv2.LINE_AA, shift)
    cv2.ellipse(img, pt(cx, cy), axes(w / 2, h / 2), 0, 0, 360, skin, -1,
                cv2.LINE_AA, shift)
    if with_features:
        dark = tuple(float(c) for c in rng.uniform(0, 50, 3))
        eye_dx = w * (0.08 if attrs['pose'] else 0.2)
        eye_cx = cx + (w * 0.15 * rng.choice([-1, 1]) if attrs['pose'] else 0)
        eye_r = max(w * 0.08, 0.8)
        for sign in (-1, 1):
            cv2.ellipse(img, pt(eye_cx + sign * eye_dx, cy - h * 0.1),
                        axes(eye_r, eye_r * 0.8), 0, 0, 360, dark, -1,
                        cv2.LINE_AA, shift)
        mouth = (0.1 if attrs['expression'] else 0.04) * h
        cv2.ellipse(img, pt(eye_cx, cy + h * 0.24), axes(w * 0.16, mouth), 0,
                    0, 360, (40.0, 40.0, 150.0), -1, cv2.LINE_AA, shift)
    if attrs['occlusion']:
        frac = 0.3 if attrs['occlusion'] == 1 else 0.6
        color = tuple(float(c) for c in rng.uniform(0, 255, 3))
        if rng.random() < 0.5:  # from below
            p1, p2 = (x - 1, y + h * (1 - frac)), (x + w + 1, y + h + 1)
        else:  # from the side
            p1, p2 = (x + w * (1 - frac), y - 1), (x + w + 1, y + h + 1)
        cv2.rectangle(img, pt(*p1), pt(*p2), color, -1, cv2.LINE_AA, shift)
    if attrs['blur']:
        x1, y1 = max(int(x) - 2, 0), max(int(y) - 2, 0)
        x2 = min(int(np.ceil(x + w)) + 3, img.shape[1])
        y2 = min(int(np.ceil(y + h)) + 3, img.shape[0])
        if x2 > x1 and y2 > y1:
            sigma = w * (0.05 if attrs['blur'] == 1 else 0.12)
            img[y1:y2, x1:x2] = cv2.GaussianBlur(img[y1:y2, x1:x2], (0, 0),
                                                 max(sigma, 0.5))


def _overlap(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over the smaller area, of one ``x y w h`` box with (K, 4)
    ``x y w h`` boxes (so that no face hides another)."""
    if len(boxes) == 0:
        return np.zeros(0)
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[0] + box[2], boxes[:, 0] + boxes[:, 2])
    y2 = np.minimum(box[1] + box[3], boxes[:, 1] + boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    smaller = np.minimum(box[2] * box[3], boxes[:, 2] * boxes[:, 3])
    return inter / np.maximum(smaller, 1e-6)


def _make_image(seed: int, split: str, index: int, img_size: Sequence[int],
                size_jitter: float, faces_per_image: Sequence[int],
                face_size_range: Sequence[float],
                empty: bool) -> Tuple[np.ndarray, np.ndarray]:
    """Draw one image and its annotation.

    Returns:
        tuple[np.ndarray, np.ndarray]: The (H, W, 3) uint8 BGR image and the
        (K, 10) int64 face lines ``x y w h blur expression illumination
        invalid occlusion pose``.
    """
    rng = _image_rng(seed, split, index)
    max_w, max_h = int(img_size[0]), int(img_size[1])
    width = int(round(max_w * rng.uniform(1 - size_jitter, 1)))
    height = int(round(max_h * rng.uniform(1 - size_jitter, 1)))
    img = _background(rng, width, height)

    # Distractors: skin-toned blobs without eyes or mouth.
    for _ in range(int(rng.integers(1, 5))):
        s = float(np.exp(rng.uniform(*np.log(face_size_range))))
        s = min(s, 0.5 * min(width, height))
        box = np.array([
            rng.uniform(0, width - s),
            rng.uniform(0, height - 1.25 * s), s * rng.uniform(0.7, 1.4),
            1.25 * s
        ])
        _draw_face(img, rng, box, dict.fromkeys(LABEL_NAMES, 0), False)

    lines: List[List[int]] = []
    num_faces = 0 if empty else int(
        rng.integers(faces_per_image[0], faces_per_image[1] + 1))
    placed = np.zeros((0, 4))
    for _ in range(num_faces):
        for _attempt in range(30):
            s = float(np.exp(rng.uniform(*np.log(face_size_range))))
            s = min(s, 0.6 * min(width, height) / 1.25)
            w, h = int(round(s)), int(round(s * 1.25))
            x = int(rng.integers(0, width - w + 1))
            y = int(rng.integers(0, height - h + 1))
            box = np.array([x, y, w, h], dtype=np.float64)
            if not (_overlap(box, placed) > 0.1).any():
                break
        else:
            continue
        attrs = dict(
            blur=int(rng.choice(3, p=[0.6, 0.3, 0.1])),
            expression=int(rng.random() < 0.2),
            illumination=int(rng.random() < 0.1),
            invalid=int(rng.random() < 0.04),
            occlusion=int(rng.choice(3, p=[0.75, 0.18, 0.07])),
            pose=int(rng.random() < 0.1))
        if attrs['invalid']:
            attrs['blur'] = 2
        _draw_face(img, rng, box, attrs)
        placed = np.vstack([placed, box])
        lines.append([x, y, w, h] + [attrs[k] for k in LABEL_NAMES])
    if lines and rng.random() < 0.08:
        # An annotation error like the official ones: a zero-size box.
        x = int(rng.integers(0, width))
        y = int(rng.integers(0, height))
        w, h = (0, int(rng.integers(0, 3))) if rng.random() < 0.5 else (0, 0)
        lines.append([x, y, w, h, 2, 0, 0, 0, 0, 0])
    img += rng.standard_normal(img.shape, dtype=np.float32) * 3
    img = np.clip(img, 0, 255).astype(np.uint8)
    return img, np.array(lines, dtype=np.int64).reshape(-1, 10)


def _split_layout(num_images: int) -> List[Tuple[str, str, bool, bool]]:
    """``(event, name, empty, empty_as_one)`` of every image of a split.

    Images 5, 30, 55, ... have no face and are written as ``0`` + a zero
    line; images 17, 42, 67, ... have none either and are written as ``1`` +
    an all-zero box (8 % empty images in all).
    """
    layout = []
    for index in range(num_images):
        event = EVENTS[index % len(EVENTS)]
        num, event_name = event.split('--', 1)
        name = f'{num}_{event_name}_{event_name.lower()}_{num}_{index}'
        empty = index % 25 in (5, 17)
        empty_as_one = index % 25 == 17
        layout.append((event, name, empty, empty_as_one))
    # Official order: events lexicographically, images in generation order.
    order = sorted(range(num_images), key=lambda i: (layout[i][0], i))
    return [layout[i] for i in order]


def _format_bbx_gt(records: Sequence[Tuple[str, np.ndarray, bool]]) -> str:
    out = []
    for rel_path, faces, empty_as_one in records:
        out.append(rel_path)
        if len(faces) == 0:
            out.append('1' if empty_as_one else '0')
            out.append('0 ' * 10)
        else:
            out.append(str(len(faces)))
            out.extend(' '.join(map(str, row.tolist())) + ' ' for row in faces)
    return '\n'.join(out) + '\n'


def _cell(items: Sequence) -> np.ndarray:
    """A MATLAB cell column (K, 1) as a numpy object array."""
    cell = np.empty((len(items), 1), dtype=object)
    for k, item in enumerate(items):
        cell[k, 0] = item
    return cell


def _gt_list(faces: np.ndarray, min_size: float) -> np.ndarray:
    """1-based indices of the faces kept in a setting, typed like MATLAB."""
    w, h = faces[:, 2].astype(np.float64), faces[:, 3].astype(np.float64)
    keep = (faces[:, 7] == 0) & (w > 0) & (h > 0) & \
        (np.sqrt(w * h) >= min_size)
    index = np.flatnonzero(keep) + 1
    if index.size == 0:
        # MATLAB's find() on a single face gives 0x0, on a column 0x1.
        return np.zeros((0, 0) if len(faces) == 1 else (0, 1), np.uint8)
    dtype = np.uint8 if index.max() <= 255 else np.uint16
    return index.astype(dtype).reshape(-1, 1)


def _write_eval_ground_truth(
        out_dir: str, records: Sequence[Tuple[str, np.ndarray, bool]]) -> None:
    """Write ``wider_face_val.mat`` and ``wider_{easy,medium,hard}_val.mat``.

    An image written as ``1`` + zero box has that (1, 4) zero box, as in the
    official files; one written as ``0`` + zero line has a (0, 4) box array.
    """
    from scipy.io import savemat
    by_event: Dict[str, List[Tuple[str, np.ndarray]]] = {}
    for rel_path, faces, empty_as_one in records:
        event, file_name = rel_path.split('/')
        if len(faces) == 0 and empty_as_one:
            faces = np.zeros((1, 10), dtype=np.int64)
        by_event.setdefault(event, []).append(
            (osp.splitext(file_name)[0], faces))
    events = sorted(by_event)
    base = dict(
        event_list=_cell(events),
        file_list=_cell([_cell([n for n, _ in by_event[e]]) for e in events]),
        face_bbx_list=_cell([
            _cell([f[:, :4].astype(np.int32) for _, f in by_event[e]])
            for e in events
        ]))
    for k, name in enumerate(LABEL_NAMES):
        base[f'{name}_label_list'] = _cell([
            _cell([
                f[:, 4 + k].astype(np.uint8).reshape(-1, 1)
                for _, f in by_event[e]
            ]) for e in events
        ])
    os.makedirs(out_dir, exist_ok=True)
    with atomic_output(osp.join(out_dir, 'wider_face_val.mat')) as tmp:
        savemat(tmp, base)
    for setting, min_size in SETTING_MIN_SIZES.items():
        data = dict(base)
        data['gt_list'] = _cell([
            _cell([_gt_list(f, min_size) for _, f in by_event[e]])
            for e in events
        ])
        with atomic_output(osp.join(out_dir,
                                    f'wider_{setting}_val.mat')) as tmp:
            savemat(tmp, data)


def _params(**kwargs) -> dict:
    """The full, JSON-typed parameters: :data:`DEFAULTS` updated by
    ``kwargs``."""
    unknown = set(kwargs) - set(DEFAULTS)
    if unknown:
        raise TypeError(f'unknown arguments {sorted(unknown)}')
    p = dict(DEFAULTS, **kwargs)
    return dict(
        version=GENERATOR_VERSION,
        num_train=int(p['num_train']),
        num_val=int(p['num_val']),
        img_size=[int(v) for v in p['img_size']],
        seed=int(p['seed']),
        size_jitter=float(p['size_jitter']),
        faces_per_image=[int(v) for v in p['faces_per_image']],
        face_size_range=[float(v) for v in p['face_size_range']],
        jpeg_quality=int(p['jpeg_quality']))


def read_manifest(root: str) -> Optional[dict]:
    """The manifest this tool wrote under ``root``, or None."""
    path = osp.join(osp.expanduser(str(root)), MANIFEST)
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def make_tiny_widerface(root: str = DEFAULT_ROOT,
                        skip_existing: bool = False,
                        **kwargs) -> dict:
    """Write the face set under ``root`` (see the module docstring).

    Args:
        root (str): Output folder (created; ``~`` expanded): new, empty,
            or holding a set this tool wrote (its manifest), whose files of
            the same names are replaced; nothing is deleted.
        skip_existing (bool): Return at once if ``root`` already holds a
            complete set made with the same parameters. Defaults to False.
        **kwargs: Parameters overriding :data:`DEFAULTS`:
            ``num_train``, ``num_val`` (images per split), ``img_size``
            (largest ``(W, H)``; each side is ``uniform(1 - size_jitter, 1)``
            times that), ``seed`` (the output is a pure function of the
            parameters), ``size_jitter``, ``faces_per_image`` (inclusive
            range per non-empty image), ``face_size_range`` (face width in
            pixels, log-uniform; height is 1.25 times the width),
            ``jpeg_quality``.

    Returns:
        dict: The parameters, plus ``num_faces_train`` and
        ``num_faces_val`` (faces as the text files count them).

    Raises:
        FileExistsError: If ``root`` holds anything without this tool's
            manifest (real WIDER FACE data, a partial download, other
            files), naming what it found; or ``root`` is a file.
    """
    root = osp.expanduser(str(root))
    params = _params(**kwargs)
    manifest = read_manifest(root)
    if osp.exists(root) and not osp.isdir(root):
        raise FileExistsError(f'{root} is a file, not a folder')
    if manifest is None and osp.isdir(root) and os.listdir(root):
        raise FileExistsError(
            f'{root} holds data that was not generated here (no '
            f'{MANIFEST}): {describe_entries(os.listdir(root))}; refusing '
            'to overwrite or mix with it: give a new or empty folder')
    if skip_existing and manifest is not None and \
            manifest.get('params') == params and 'stats' in manifest:
        return dict(params, **manifest['stats'])
    os.makedirs(root, exist_ok=True)
    # Written first (an interrupted run is recognised and redone) and again,
    # with the face counts, when done.
    write_text(osp.join(root, MANIFEST), json.dumps(dict(params=params),
                                                    indent=2))
    stats = {}
    for split in ('train', 'val'):
        records = _write_images(root, split, params)
        split_dir = osp.join(root, 'wider_face_split')
        os.makedirs(split_dir, exist_ok=True)
        write_text(osp.join(split_dir, f'wider_face_{split}_bbx_gt.txt'),
                   _format_bbx_gt(records))
        # Faces as the text file counts them (a "1" + zero box counts 1).
        stats[f'num_faces_{split}'] = int(
            sum(len(faces) or int(as_one) for _, faces, as_one in records))
        if split == 'val':
            _write_eval_ground_truth(
                osp.join(root, 'eval_tools', 'ground_truth'), records)
    write_text(osp.join(root, MANIFEST),
               json.dumps(dict(params=params, stats=stats), indent=2))
    return dict(params, **stats)


def _write_images(root: str, split: str,
                  params: dict) -> List[Tuple[str, np.ndarray, bool]]:
    """Draw and write the images of a split.

    Returns:
        list[tuple]: ``(event/name.jpg, (K, 10) face lines, empty_as_one)``
        per image, in the order of the official files.
    """
    img_dir = osp.join(root, f'WIDER_{split}', 'images')
    records = []
    for event, name, empty, empty_as_one in _split_layout(
            params[f'num_{split}']):
        index = int(name.rsplit('_', 1)[1])
        img, faces = _make_image(params['seed'], split, index,
                                 params['img_size'], params['size_jitter'],
                                 params['faces_per_image'],
                                 params['face_size_range'], empty)
        os.makedirs(osp.join(img_dir, event), exist_ok=True)
        path = osp.join(img_dir, event, f'{name}.jpg')
        ok, buf = cv2.imencode(
            '.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, params['jpeg_quality']])
        if not ok:
            raise OSError(f'could not encode {path}')
        write_bytes(path, buf.tobytes())
        records.append((f'{event}/{name}.jpg', faces, empty_as_one))
    return records


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write the small generated face set, in the official '
        'WIDER FACE layout, to OUT_DIR: a new or empty folder, or one holding '
        'a set this tool wrote (replaced in place). A folder holding anything '
        'else (real WIDER FACE data, a partial download) is refused.')
    parser.add_argument(
        'out_dir',
        nargs='?',
        default=DEFAULT_ROOT,
        help=f'output folder (default: {DEFAULT_ROOT})')
    parser.add_argument('--num-train', type=int, default=DEFAULTS['num_train'])
    parser.add_argument('--num-val', type=int, default=DEFAULTS['num_val'])
    parser.add_argument(
        '--img-size',
        type=int,
        nargs=2,
        default=DEFAULTS['img_size'],
        metavar=('W', 'H'),
        help='largest image size')
    parser.add_argument('--seed', type=int, default=DEFAULTS['seed'])
    parser.add_argument(
        '--skip-existing',
        action='store_true',
        help='do nothing if OUT_DIR already holds this set')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    try:
        stats = _run(args)
    except FileExistsError as e:
        sys.exit(f'error: {e}')
    print(f'{osp.expanduser(args.out_dir)}: the generated face set in the '
          f'official WIDER FACE layout, {stats["num_train"]} train images '
          f'({stats["num_faces_train"]} faces), {stats["num_val"]} val images '
          f'({stats["num_faces_val"]} faces)')


def _run(args: argparse.Namespace) -> dict:
    return make_tiny_widerface(
        args.out_dir,
        skip_existing=args.skip_existing,
        num_train=args.num_train,
        num_val=args.num_val,
        img_size=tuple(args.img_size),
        seed=args.seed)


if __name__ == '__main__':
    main()
