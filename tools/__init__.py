"""Maintainer scripts of the seglab course (not part of the installed package).

``tools`` is a package so that its modules are imported one way, as ``tools.<name>``: by the
tests (pytest puts the repository root on ``sys.path``, see ``pythonpath`` in pyproject.toml),
with ``python -m tools.<name>`` from the repository root, and by each other. Each script also
runs as ``python tools/<name>.py``, as the Makefile calls them.
"""
