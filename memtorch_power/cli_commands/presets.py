"""``memtorch-power presets``: the named PCM presets, what each models and its source."""

from __future__ import annotations

from typing import Any

from memtorch_power.cli_commands.common import console

HELP = "list the PCM presets (what each simulates, where the update happens, sources)"
DESCRIPTION = """\
List the named presets that memtorch_power.nn.analogize(model, preset=...), `compare --presets`
and the keyword-spotting recipe (--model.preset) accept. 'digital' (plain torch layers) is
accepted wherever a list of presets is.

example:
  memtorch-power presets
"""


def configure(parser: Any) -> None:
    """No options beyond ``--config``/``--print_config``."""


def run(args: Any) -> int:
    from rich.table import Table

    from memtorch_power.presets import describe_presets

    table = Table(title="PCM presets (memtorch_power.presets)", show_lines=True)
    for column in ("name", "update"):
        table.add_column(column, no_wrap=True)
    for column in ("where the training phases run", "models", "source"):
        table.add_column(column, overflow="fold")
    for row in describe_presets():
        models = row["models"] + (f"\n[bold red]{row['caveat']}[/]" if row["caveat"] else "")
        table.add_row(row["name"], row["update"], row["phases"], models, row["source"])
    out = console()
    out.print(table)
    out.print("'digital' keeps plain torch layers (the baseline in `compare`).")
    return 0
