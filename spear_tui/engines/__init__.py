"""The engines: one worker each, from a source to events for sinks (console, store, JSON, reports).

- `packet`: captures (files or an interface) → decoders → online LSTM + novelty rules → events;
- `meter`: meter days (file or live Modbus polling) → seq2seq autoencoder → DayScored events;
- `review`: a stored session played back as the events it recorded;
- `builder`: builds a PacketEngine from command-line choices.

Nothing here imports Textual or `spear_tui.console` (tests/engines/test_no_cycles.py checks it).
"""
