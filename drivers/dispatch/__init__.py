"""Dispatch: a pure-Python policy (no Django) and its replay on the Grubhub MDRP instances."""
