"""RingCentral OAuth tokens: one locked database row per credential set, refreshed race-free."""
