"""Workloads: profiles (YAML in scenarios/profiles) and synthetic citizens to fill them."""
