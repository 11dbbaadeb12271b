#!/usr/bin/env node
// Entry point for the installed package: runs the compiled CLI.
import "../dist/cli/main.js";
