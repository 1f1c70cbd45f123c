"""Turning scan results into text: alert formats and the stderr summary."""
