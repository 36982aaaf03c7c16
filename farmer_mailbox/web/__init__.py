"""Thin aiohttp handlers: provider webhooks, the staff JSON API, health."""
