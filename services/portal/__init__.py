"""National public-service portal (Cổng DVC liên thông): takes submissions over HTTP, tracks
each dossier's timeline, and receives the results."""
