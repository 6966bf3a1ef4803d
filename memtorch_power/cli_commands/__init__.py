"""The subcommands of ``memtorch-power`` (see :mod:`memtorch_power.cli`).

Each module defines ``HELP`` (one line for the command list), ``DESCRIPTION`` (what it does,
with an example), ``configure(parser)`` (its options) and ``run(args) -> int``. Modules import
their heavy libraries inside ``run``. The recipes in ``recipes/`` call the same ``main``
functions, so a recipe and its subcommand parse the same options.
"""

#: Subcommands, in the order of ``--help``; each is the module of the same name here.
COMMANDS: tuple[str, ...] = ("train", "compare", "energy", "profiles", "presets", "demo", "federated", "gating", "system")
