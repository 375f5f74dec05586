"""The entry points of MLproject: thin scripts that parse parameters, run, and log."""
