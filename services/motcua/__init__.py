"""Provincial one-stop system (một cửa điện tử): records the intake and forwards the dossier."""
