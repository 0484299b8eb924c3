"""Developer tools that are not part of the reportgen package (not in the wheel): see tools/example.py."""
