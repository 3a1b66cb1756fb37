#!/usr/bin/env node
import { runCli } from './run-cli';

/** The `rate-sync` executable: see `rate-sync --help`. */
void runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
}).then((code) => {
  process.exitCode = code;
});
