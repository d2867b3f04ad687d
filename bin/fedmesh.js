#!/usr/bin/env node
// The fedmesh CLI: the compiled TypeScript lives in dist/ (npm install runs `prepare`, which compiles it).
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`fedmesh: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
