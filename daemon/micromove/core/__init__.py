"""The pure core: the cue engine, the session around it, the catalog, progression,
confirmations, reminders and the trace format. No I/O, no clock, no threads."""
