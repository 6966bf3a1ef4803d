"""Download and unpack the Speech Commands v0.02 release (2.3 GB tarball).

The tarball is streamed to a temporary folder beside the target while its SHA-256
is computed, checked, unpacked member by member with path-traversal checks, and
the unpacked folder is renamed onto the target in one step, so an interrupted or
corrupt download never leaves a half-filled dataset folder behind.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.request
import zlib
from pathlib import Path, PurePosixPath
from typing import Final

from tqdm.auto import tqdm

from memtorch_power.kws.labels import KEYWORDS
from memtorch_power.kws.splits import TESTING_LIST, VALIDATION_LIST

__all__ = [
    "OFFICIAL_URL",
    "OFFICIAL_SHA256",
    "ChecksumError",
    "is_speech_commands_root",
    "safe_extract",
    "download_speech_commands",
]

OFFICIAL_URL: Final[str] = "http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz"
# SHA-256 of OFFICIAL_URL as listed in torchaudio 2.10.0,
# torchaudio/datasets/speechcommands.py, ``_CHECKSUMS``.
OFFICIAL_SHA256: Final[str] = "af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58"

_CHUNK: Final[int] = 1 << 20  # bytes per read


class ChecksumError(ValueError):
    """The downloaded file's SHA-256 does not match the expected one."""


def is_speech_commands_root(path: str | os.PathLike[str]) -> bool:
    """True if ``path`` looks like an unpacked release: it has a split list or a
    keyword folder."""
    p = Path(path)
    if not p.is_dir():
        return False
    if (p / VALIDATION_LIST).is_file() or (p / TESTING_LIST).is_file():
        return True
    return any((p / word).is_dir() for word in KEYWORDS)


def _check_member(member: tarfile.TarInfo, archive: str) -> None:
    name = PurePosixPath(member.name)
    if name.is_absolute() or ".." in name.parts or member.name.startswith(("/", "\\")):
        raise ValueError(f"unsafe path {member.name!r} in archive {archive!r} (path traversal)")
    if not (member.isfile() or member.isdir()):
        # The release holds only files and folders; links and devices are refused.
        raise ValueError(
            f"archive {archive!r} member {member.name!r} is not a regular file or folder"
        )


def safe_extract(archive: str | os.PathLike[str], dest: str | os.PathLike[str]) -> None:
    """Unpack a (gzip-compressed) tarball into ``dest`` in one streaming pass.

    Refuses absolute paths, ``..`` components, links and special files (checked per
    member before it is written, then again by ``tarfile``'s ``"data"`` filter).

    Raises:
        ValueError: for an unsafe member or an archive that cannot be read.
    """
    archive = os.fspath(archive)
    os.makedirs(dest, exist_ok=True)
    try:
        with tarfile.open(archive, mode="r|*") as tar:
            for member in tar:
                _check_member(member, archive)
                tar.extract(member, path=dest, filter="data")
    except (tarfile.TarError, EOFError, gzip.BadGzipFile, zlib.error) as err:
        if isinstance(err, tarfile.FilterError):
            raise ValueError(f"unsafe member in archive {archive!r}: {err}") from err
        raise ValueError(f"cannot unpack archive {archive!r}: {err}") from err


def _fetch(url: str, dest: Path, progress: bool, timeout: float) -> str:
    """Stream ``url`` into ``dest``; returns the hex SHA-256 of the bytes written."""
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=timeout) as response:
        total = response.headers.get("Content-Length")
        with (
            open(dest, "wb") as out,
            tqdm(
                total=int(total) if total else None, unit="B", unit_scale=True,
                unit_divisor=1024, desc=os.path.basename(url) or "download",
                disable=not progress,
            ) as bar,
        ):
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                bar.update(len(chunk))
    return digest.hexdigest()


def download_speech_commands(
    root: str | os.PathLike[str],
    url: str = OFFICIAL_URL,
    sha256: str | None = OFFICIAL_SHA256,
    progress: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Download the Speech Commands tarball and unpack it so that ``root`` is the
    dataset folder (``root/yes/...``, ``root/validation_list.txt``...).

    Nothing is downloaded if ``root`` already holds a release. The tarball is
    streamed (``urllib``, ``tqdm`` progress bar) into a temporary folder beside
    ``root``, its SHA-256 is checked, it is unpacked there (no path traversal) and
    the result is renamed onto ``root``; the temporary folder, with the partial or
    rejected tarball, is always removed. A tarball whose content is a single
    top-level folder is unpacked from inside that folder.

    Args:
        root: target dataset folder; must not exist or be empty.
        url: tarball address (the official v0.02 release by default).
        sha256: expected hex SHA-256 of the tarball; None skips the check.
        progress: show a progress bar.
        timeout: socket timeout, seconds.

    Returns:
        ``root`` as an absolute path.

    Raises:
        ChecksumError: the download's SHA-256 differs from ``sha256``.
        FileExistsError: ``root`` exists, is not empty and is not a release.
        ValueError: the tarball holds unsafe paths or cannot be unpacked.
        urllib.error.URLError: the download failed.
    """
    root = Path(root).expanduser().absolute()
    if is_speech_commands_root(root):
        return root
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise FileExistsError(
            f"cannot download Speech Commands into {root}: it exists and is not an empty folder"
        )
    root.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{root.name}.", suffix=".download", dir=root.parent))
    try:
        archive = work / (os.path.basename(url) or "archive.tar.gz")
        archive = archive.with_name(archive.name + ".part")
        actual = _fetch(url, archive, progress, timeout)
        if sha256 is not None and actual.lower() != sha256.lower():
            archive.unlink(missing_ok=True)
            raise ChecksumError(
                f"SHA-256 mismatch for {url}: expected {sha256.lower()}, got {actual}; "
                "the partial download was removed"
            )
        unpacked = work / "unpacked"
        safe_extract(archive, unpacked)
        archive.unlink()
        entries = list(unpacked.iterdir())
        nested = len(entries) == 1 and is_speech_commands_root(entries[0])
        content = entries[0] if nested else unpacked
        if root.is_dir():
            root.rmdir()  # empty (checked above)
        os.replace(content, root)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return root
