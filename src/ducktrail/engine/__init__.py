"""Engine adapters: how a set of files and rules becomes alerts on one engine."""
