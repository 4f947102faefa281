"""Importing people, enrolments and attendance from a spreadsheet saved as CSV.

A file is read whole (`csv_input`), each row is checked and turned into service commands
(`rows`, `plan`), and every command runs in one service batch: a dry run drops the batch, a
commit saves it in one write, and only when no row has a problem. Importing the same file again
appends nothing: what is already recorded is skipped.
"""
