"""Run the emulator with ``python -m pulumi_codemagic.emulator`` (same as the CLI)."""

from .cli import main

raise SystemExit(main())
