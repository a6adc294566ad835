"""The meter detector: a seq2seq LSTM autoencoder over days of samples, its calendar inputs,
MSE thresholds and plain-words explanations."""
