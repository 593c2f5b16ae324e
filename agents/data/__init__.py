"""Bundled sample market data (a package so that wheels carry its CSV files)."""
