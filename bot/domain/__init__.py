"""Pure domain logic: scheduling, parsing, time zones, tip rotation and adherence."""
