"""Notebook widgets (live monitors). Import the modules you need: this package imports nothing, so
that ``%load_ext nbstudio`` never pays for ipywidgets or plotly."""
