//go:build race

package main

// raceEnabled reports a test binary built with -race (memory figures differ).
const raceEnabled = true
