"""Errors that end a target-ordoro run (Ordoro's own errors live in ``ordoro_core.client``)."""

from __future__ import annotations


class TargetOrdoroError(Exception):
    """A problem with the run itself (settings, input streams) rather than with one record."""


class UnknownStreamError(TargetOrdoroError):
    """A SCHEMA arrived for a stream the target cannot write and no setting says what to do."""


class SettingsError(TargetOrdoroError):
    """A setting names something Ordoro does not have (e.g. an unknown sales channel)."""
