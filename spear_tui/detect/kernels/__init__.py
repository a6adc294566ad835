"""The LSTM layer both detectors run: a batch-last JAX formulation and its native XLA FFI time loops."""
