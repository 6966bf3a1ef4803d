"""memtorch_power: PyTorch on simulated phase-change-memory crossbars, with per-layer energy.

* :mod:`memtorch_power.nn`: analog twins of ``nn.Linear``/``Conv1d``/``Conv2d``,
  ``analogize``/``digitalize``, ``program``/``drift``.
* :mod:`memtorch_power.presets`: named aihwkit configurations with their sources.
* :mod:`memtorch_power.optim`: ``optimizer_for`` picks the optimizer a preset needs.
"""

from memtorch_power.compat import check_stack

check_stack()

__version__ = "0.1.0"
