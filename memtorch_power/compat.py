"""The torch/aihwkit pairing this package is tested with, checked when it is imported.

aihwkit's compiled tiles are built against one torch release: aihwkit 1.1.0 with torch 2.10
works; with torch 2.13 or 2.15 its extension fails to load with an obscure symbol error. The
check reads installed versions from package metadata (nothing is imported), and raises one
:class:`ImportError` that says which versions to install.
"""

from __future__ import annotations

from importlib import metadata

#: aihwkit major.minor -> the torch major.minor its wheels are built against (tested together).
TESTED_PAIRS: dict[str, str] = {"1.1": "2.10"}


def _major_minor(version: str) -> str:
    return ".".join(version.split("+")[0].split(".")[:2])


def check_stack(torch_version: str | None = None, aihwkit_version: str | None = None) -> None:
    """Raise ``ImportError`` if the installed torch and aihwkit are a pair known not to work.

    Args:
        torch_version, aihwkit_version: versions to check (None: the installed ones).

    Raises:
        ImportError: torch or aihwkit missing, or aihwkit's tested torch differs from the
            installed one.
    """
    try:
        torch_version = torch_version or metadata.version("torch")
        aihwkit_version = aihwkit_version or metadata.version("aihwkit")
    except metadata.PackageNotFoundError as err:
        raise ImportError(f"memtorch_power needs torch and aihwkit: {err.name} is not installed "
                          "(pip install memtorch_power installs the tested pair)") from None
    wanted = TESTED_PAIRS.get(_major_minor(aihwkit_version))
    if wanted is not None and _major_minor(torch_version) != wanted:
        raise ImportError(
            f"aihwkit {aihwkit_version} is built for torch {wanted}.x, but torch {torch_version} is installed: "
            f"its compiled tiles would fail to load. Install torch=={wanted}.* (and torchaudio=={wanted}.*), "
            "or the exact stack of requirements.lock"
        )
