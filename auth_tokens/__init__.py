"""RingCentral OAuth tokens: storage, refresh and login (models arrive in a later issue)."""
