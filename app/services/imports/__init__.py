"""Bulk imports (issue 16): the spreadsheets county offices send, read, mapped and applied."""
