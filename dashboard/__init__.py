"""The ops dashboard: live alerts, funnels, health, dossier timelines, acknowledge and redrive."""
