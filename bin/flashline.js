#!/usr/bin/env node
// The `flashline` command. The sources are TypeScript; tsx compiles them on load so the command works
// straight from a clone without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../main/cli/index.ts');
