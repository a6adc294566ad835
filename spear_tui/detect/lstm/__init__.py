"""The paper's stacked LSTM: message features, chunk ordering and normalising, the jitted score+train step,
the online detector and its peak rule."""
