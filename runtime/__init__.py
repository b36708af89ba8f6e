"""What every agency process shares: settings, logging, Kafka, the PostgreSQL inbox/outbox."""
