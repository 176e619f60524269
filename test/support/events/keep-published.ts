/**
 * For a test that reads the events its services published from their outboxes: keeps published
 * records (by default the relay deletes a record once it is published). Call it at the top of the
 * test file, before any service starts (the relay reads OUTBOX_RETENTION_MS when it is built).
 */
export function keepPublishedOutboxRecords(): void {
  process.env.OUTBOX_RETENTION_MS = "3600000";
}
