"""Jobs: compress, sweep, the byte-budget and target searches, batch and its executors."""
