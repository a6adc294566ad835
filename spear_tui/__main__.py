from spear_tui.cli import entry

entry()
