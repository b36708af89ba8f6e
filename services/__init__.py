"""Agency simulators, one package each, and the runtime they share."""
