"""The read side: figures read from the database for stats, status, doctor and checkin."""
