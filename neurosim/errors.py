"""One exception family. Every error a user can cause is a NeurosimError whose message
names the file or value and the problem in one line; the CLI prints it and exits 2."""


class NeurosimError(Exception):
    """Base of every error neurosim raises on bad input."""


class ValidationError(NeurosimError, ValueError):
    """A parameter or value is out of its allowed range ("threshold must be positive, got -1")."""


class DataError(NeurosimError):
    """A dataset file or directory is missing, truncated or malformed."""


class CheckpointError(NeurosimError):
    """A checkpoint cannot be loaded or does not hold what neurosim needs."""


class ConversionError(NeurosimError):
    """A network cannot be converted (unsupported layer, inconsistent shapes)."""


class NetworkFileError(NeurosimError):
    """A NIR file is missing, unreadable or describes an invalid graph."""


class UnsupportedNodeError(ConversionError):
    """A node type or topology a backend or converter cannot build."""


class BackendUnavailableError(NeurosimError):
    """A simulator backend is unknown or its package is not installed."""


class ProfileError(NeurosimError):
    """A hardware profile file is missing, malformed or lacks a source."""


class HardwareConstraintError(NeurosimError):
    """A network does not fit a hardware profile's limits."""


class RecordError(NeurosimError):
    """An activity record file is missing or malformed."""


class ConfigError(ValidationError):
    """A run configuration file is unreadable or has an unknown key or a value of the wrong type."""
