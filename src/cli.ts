#!/usr/bin/env -S node --max-semi-space-size=8 --no-parallel-scavenge
// (the flags of SERVICE_NODE_FLAGS in util/nodeFlags.ts; a test keeps them equal)
// Entry point of the `predstream` binary.
import { EXIT, buildProgram } from './program.js';

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`predstream: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(EXIT.failed);
  });
