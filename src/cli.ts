#!/usr/bin/env node
// Entry point of the `predstream` binary.
import { EXIT, buildProgram } from './program.js';

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`predstream: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(EXIT.failed);
  });
