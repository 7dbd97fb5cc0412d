"""Versioned dataset builders (one module per dataset), standing on ``cyclebench``."""
