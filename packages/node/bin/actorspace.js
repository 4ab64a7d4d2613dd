#!/usr/bin/env node
// The `actorspace` command. A file of its own (not the build output) so that installing the
// workspace links the bin before anything is built.
import '../dist/cli/main.js';
