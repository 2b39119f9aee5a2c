// Package examples holds the shipped nginx and Caddy configurations in front
// of alilink (nginx/, caddy/) and the test that runs them with the real
// programs against the fake drive.
package examples
