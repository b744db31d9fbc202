"""Reliability checks: fuzzing, DST over a year, downtime, blocked users, floods, security."""
