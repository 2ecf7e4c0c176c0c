"""Tallies and responses as files: CSV, XLSX, JSON, and the open-data zip.

A module per format (as_csv.py, as_json.py, as_xlsx.py, open_data.py), over the rows and
columns they share (rows.py). Tallies are small (aggregates) and are built whole.
Responses can be millions of rows: they are written row by row from the database
cursor, as chunks a caller writes to a file or streams over HTTP, and XLSX uses
openpyxl's write-only mode.
"""
