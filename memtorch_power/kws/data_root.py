"""Where the Speech Commands folder is when nobody says: one place for every reader of the data
(the keyword-spotting recipes, the federated nodes, the gating streams and the CLI)."""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable naming the Speech Commands folder (the tests read it too).
DATA_ENV_VAR = "MEMTORCH_POWER_SPEECH_COMMANDS"
_FALLBACK_ROOTS = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "speech_commands_mini",
    Path("/work/shared/data/speech_commands_mini"),
)


def default_data_root() -> str:
    """``$MEMTORCH_POWER_SPEECH_COMMANDS``, else ``<repo>/../shared/data/speech_commands_mini``,
    else ``/work/shared/data/speech_commands_mini`` (the first that exists; the last if none)."""
    configured = os.environ.get(DATA_ENV_VAR)
    if configured:
        return configured
    for root in _FALLBACK_ROOTS:
        if root.is_dir():
            return str(root)
    return str(_FALLBACK_ROOTS[-1])


__all__ = ["DATA_ENV_VAR", "default_data_root"]
