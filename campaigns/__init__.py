"""Templates and bulk sends: the same text to a list, through the pipeline or RingCentral's
high-volume (A2P) batches."""
