"""An existing archive into records: talk pages, plan tables, spreadsheets."""
