"""Retention periods, legal holds and the anonymisation of expired archived cases."""
