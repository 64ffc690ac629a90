#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smsapp.settings")

    from django.core.management import execute_from_command_line

    from smsapp.bootstrap import database_errors_in_one_line, load_settings_or_exit

    load_settings_or_exit()
    with database_errors_in_one_line(sys.argv):
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
