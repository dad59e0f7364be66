"""Reliability and security tests: bad input, concurrency, crashes, hostile text, forgery."""
