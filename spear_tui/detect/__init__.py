"""Detectors: what turns message tables and meter samples into scores, flags and alerts.

Where a chunk score comes from, in one hop (the stacked LSTM, one detector per protocol):

1. source: `capture/` runs tshark (`-T fields`) and `capture/decode.py` cuts its rows into one polars
   table per protocol (columns: `protocols/schema.py`); the engine hands each table to
   `lstm/online.py` `OnlineLSTMDetector.feed`, which buffers it into chunks of 500 messages.
2. features: `lstm/features.py` `prepare` gives each message (msgtype, log1p(length)[, rhythm]) and
   its talkers, vectorised over the batch.
3. ordering and normalising: `lstm/chunk_batch.py` orders each chunk by the sequence mode (flow,
   direction, paper) and computes its statistics; `online.py` `_tensors` z-scores it with
   `features.RunningNorm` (everything seen before the chunk) and cuts it into (50, 10, features)
   inputs and next-message targets (`features.chunk_tensors`).
4. the jitted score+train step: `lstm/stacked_lstm.py` `StackedLSTM.dispatch` runs one compiled call
   that scores the chunk with the current weights (the score: its prediction loss on data never
   trained on) and then trains on it; its LSTM layers are `kernels/lstm_kernel.py` `lstm_layer`,
   the native C++ time loops of `kernels/lstm_native.cc` when built, else the same loops in JAX.
5. peak rule: `lstm/decision.py` `PeakRule` (over `lstm/peaks.py`) sets the chunk's threshold from
   the scores before it (rolling median + k x MAD, after a warm-up); `online.py` `_settle` records
   score and threshold.
6. events: `online.py` `_score_events` emits `events.ChunkScored` for every chunk and an
   `events.Alert` when score > threshold, worded by `lstm/decision.py` (which also reviews a trained
   net's warm-up chunks). The rule goes to every sink as `events.DetectorStarted`, so the console's
   slider, a review and `OnlineLSTMDetector.reflag(k)` all re-apply this one rule.

Sub-packages: `lstm/` (the above, plus checkpoints), `meter/` (seq2seq autoencoder over meter days,
its calendar inputs, MSE thresholds and explanations), `novelty/` (protocol-aware rules),
`kernels/` (the LSTM layer both nets run).
"""
