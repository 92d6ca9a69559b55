"""Baselines the figures compare against: what a user would pick instead of gladia_async."""
