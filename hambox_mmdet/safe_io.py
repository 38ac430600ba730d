# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""Writing outputs without destroying anything a user owns.

The rules every tool of this package follows (``docs/bad_input.md``):

- an output is written to a temporary name in its own folder and moved into
  place (:func:`os.replace`) only once it is complete (and, where the tool
  checks it, verified): an interrupted or failed run leaves the previous
  file as it was (:func:`atomic_output`, :func:`write_text`, ...);
- no output is ever an input (:func:`check_not_inputs`);
- an existing output is replaced only when the user asked for it
  (``--overwrite``; :func:`check_new_output`);
- a folder that a tool fills is marked with a marker file of that tool; a
  folder that holds other data is refused, naming what is in it
  (:func:`claim_output_dir`).

Imports nothing beyond the standard library (the ONNX demo uses it without
torch).
"""
import contextlib
import json
import os
import os.path as osp
from typing import Iterable, Iterator, List, Optional, Sequence

#: Items of a folder named in an error message.
SHOWN = 5


def _real(path: str) -> str:
    return osp.normcase(osp.realpath(osp.expanduser(str(path))))


def same_path(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` name the same file (links and ``..``
    resolved; hard links too where both exist)."""
    if _real(a) == _real(b):
        return True
    try:
        return osp.samefile(a, b)
    except OSError:
        return False


def check_not_inputs(outputs: Iterable[str], inputs: Iterable[str]) -> None:
    """Raise ``ValueError`` if an output is one of the inputs.

    Args:
        outputs: the files a tool is about to write.
        inputs: the files it reads.
    """
    inputs = [str(p) for p in inputs]
    real_inputs = {_real(p): p for p in inputs}
    for out in outputs:
        out = str(out)
        hit = real_inputs.get(_real(out))
        if hit is None:
            hit = next((p for p in inputs if same_path(out, p)), None)
        if hit is not None:
            raise ValueError(f'the output {out} is the input {hit}: refusing '
                             'to write over an input (choose another output '
                             'name or folder)')


def check_new_output(path: str, overwrite: bool,
                     flag: str = '--overwrite') -> None:
    """Raise unless ``path`` may be written: it must not exist, or
    ``overwrite`` must be set (and it must not be a folder)."""
    path = str(path)
    if osp.isdir(path):
        raise IsADirectoryError(f'the output {path} is a folder')
    if osp.lexists(path) and not overwrite:
        raise FileExistsError(f'the output {path} exists: pass {flag} to '
                              'replace it')


def _tmp_name(path: str) -> str:
    folder, name = osp.split(osp.abspath(str(path)))
    stem, ext = osp.splitext(name)
    # the extension stays last: writers (OpenCV, matplotlib) choose the
    # format by it
    return osp.join(folder, f'.{stem}.tmp-{os.getpid()}{ext}')


@contextlib.contextmanager
def atomic_output(path: str) -> Iterator[str]:
    """Yield a temporary file name next to ``path``; move it onto ``path``
    when the block ends without an exception, remove it otherwise.

    The folder of ``path`` is created. The block may raise to refuse the
    result (a failed verification): ``path`` is then left as it was.
    """
    path = str(path)
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = _tmp_name(path)
    try:
        yield tmp
        if not osp.isfile(tmp):
            raise OSError(f'{path}: nothing was written')
        os.replace(tmp, path)
    finally:
        if osp.lexists(tmp):
            os.remove(tmp)


def write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_output(path) as tmp:
        with open(tmp, 'wb') as f:
            f.write(data)


def write_text(path: str, text: str) -> None:
    """Write UTF-8 ``text`` (``\\n`` line ends) to ``path`` atomically."""
    with atomic_output(path) as tmp:
        with open(tmp, 'w', encoding='utf-8', newline='\n') as f:
            f.write(text)


def write_json(path: str, obj, **kwargs) -> None:
    """Write ``obj`` as JSON atomically. NaN and infinities are refused
    (they are not JSON): ``ValueError``."""
    try:
        text = json.dumps(obj, allow_nan=False, **kwargs)
    except ValueError as e:
        raise ValueError(f'{path}: not written: {e} (a result is NaN or '
                         'infinite)') from None
    write_text(path, text)


def read_marker(folder: str, marker: str) -> Optional[dict]:
    """The content of ``<folder>/<marker>`` (a JSON object), or None."""
    try:
        with open(osp.join(str(folder), marker), encoding='utf-8') as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def describe_entries(names: Sequence[str]) -> str:
    """``'a, b, c (+2 more)'`` of a folder's entries."""
    names = sorted(names)
    return ', '.join(names[:SHOWN]) + (
        f' (+{len(names) - SHOWN} more)' if len(names) > SHOWN else '')


def claim_output_dir(folder: str,
                     marker: str,
                     tool: str,
                     ignore: Sequence[str] = ()) -> bool:
    """Make ``folder`` an output folder of ``tool``.

    An absent or empty folder is created and marked with ``marker`` (a JSON
    file naming the tool); a folder that already holds ``marker`` is
    accepted as it is. Any other folder holds data the tool did not write,
    and is refused.

    Args:
        folder (str): the output folder.
        marker (str): the marker file name (e.g. ``'.hambox_demo.json'``).
        tool (str): written into the marker and named in messages.
        ignore (Sequence[str]): entry names that do not count as data.

    Returns:
        bool: whether the folder was already marked (an earlier run).

    Raises:
        FileExistsError: the folder holds entries and no marker, naming
            them; or ``folder`` is a file.
    """
    folder = str(folder)
    if osp.exists(folder) and not osp.isdir(folder):
        raise FileExistsError(f'{folder} is a file, not a folder')
    if osp.isdir(folder):
        if read_marker(folder, marker) is not None:
            return True
        found = [n for n in os.listdir(folder) if n not in ignore]
        if found:
            raise FileExistsError(
                f'{folder} already holds data that {tool} did not write '
                f'(no {marker}): {describe_entries(found)}; refusing to '
                'write there: choose an empty or new folder')
    os.makedirs(folder, exist_ok=True)
    write_text(osp.join(folder, marker),
               json.dumps(dict(written_by=tool), indent=2) + '\n')
    return False


def existing(paths: Iterable[str]) -> List[str]:
    """The paths that exist."""
    return [str(p) for p in paths if osp.lexists(str(p))]
