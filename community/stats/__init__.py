"""Numbers kept up to date by events: engineer rankings per estate, estate KPIs, the console overview."""
