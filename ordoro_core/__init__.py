"""What tap-ordoro and target-ordoro share: the Ordoro API client, the catalog, the sandbox."""

__version__ = "0.1.0"
