"""reportgen: cohort workbook in, audit-ready publication report out."""

__version__ = "0.1.0"
