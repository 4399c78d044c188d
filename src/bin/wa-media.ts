#!/usr/bin/env node
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Exit from "effect/Exit"
import { main } from "../cli/main.js"

NodeRuntime.runMain(main(process.argv.slice(2)), {
  disableErrorReporting: true,
  // The program returns its own exit status; only an interruption (a signal) ends it otherwise.
  teardown: (exit, onExit) => onExit(Exit.isSuccess(exit) && typeof exit.value === "number" ? exit.value : 130)
})
