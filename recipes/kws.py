"""Keyword spotting on Speech Commands, digital or on simulated PCM (LightningCLI).

    python recipes/kws.py fit --config recipes/configs/digital.yaml
    python recipes/kws.py fit --config recipes/configs/pcm_hwa.yaml --data.root /path/to/speech_commands_v0.02

See ``python recipes/kws.py fit --help`` for every option.
"""

from memtorch_power.kws.cli import main

if __name__ == "__main__":
    main()
