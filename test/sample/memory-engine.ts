// Imported first by the sample's e2e: the sample's store follows RATE_LIMIT_ENGINE, and these
// suites are about the memory engine (the shared engines are checked by two-processes.mjs).
// jest gives each test file its own copy of process.env, so this does not leak.
process.env.RATE_LIMIT_ENGINE = 'memory';
