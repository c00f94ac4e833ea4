#!/usr/bin/env node
// The command line entry point (`npx nopass-bridge start|simulator`). Node 24 runs the
// TypeScript sources directly.
import '../src/main.ts';
