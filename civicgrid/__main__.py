"""`python -m civicgrid <command>` is `manage.py <command>`."""

import os
import sys

from django.core.management import execute_from_command_line

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")
execute_from_command_line([f"{sys.executable} -m civicgrid", *sys.argv[1:]])
