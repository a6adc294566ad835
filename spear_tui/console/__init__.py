"""The Textual console. Import `spear_tui.console.app` for `SpearApp`, `run_console`, `run_meter_console`."""
