"""The stream monitor: follows every dossier on the dossier-events topic and raises an alert when
an expected event does not come by its deadline. The domain here is pure (events and a clock in,
findings out); the faust worker, PostgreSQL and the alerts topic are adapters around it."""
