"""Compute targets: where cells and sweep trials run (``local``, managed Dask clusters, attached).

Core only (no IPython): `targets` manages them, `cells` runs a cell on one, `executor` is the sweep
controller's way to run trials on one, `api` gives them to the REST API as dicts.
"""
