"""The school domain: what a school record is, how its fields are normalized, and when two
records are the same school. Pure functions and values: no I/O, no database, no engine."""
