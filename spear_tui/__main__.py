import sys

from spear_tui.cli import main

sys.exit(main())
