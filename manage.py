#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # The settings a running `make run` chose (its port, loopback partners allowed), unless
    # this shell sets its own: commands in a second shell act on the same platform.
    from config import runenv

    runenv.load()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
