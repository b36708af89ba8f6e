"""Residence registry (cư trú): registers permanent residence and removes it after a death."""
