// Filled in by the foundation work: a fresh, migrated PostgreSQL database per test file.
export {};
