"""Legacy code analysis."""
