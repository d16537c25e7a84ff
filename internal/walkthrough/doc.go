// Package walkthrough runs a Markdown file's command blocks exactly as
// written, in order, in one fresh shell, and checks that every command
// succeeds (or fails as the file says) and prints what the file shows. It
// keeps the README true: `make walkthrough` (part of `make test`) runs the
// README through it.
//
// # The convention
//
// Blocks are chosen by their info string:
//
//   - ```console: a transcript. Each line starting with "$ " is a command
//     (continued on the next lines when it ends with a backslash, opens a
//     here-document or is otherwise unfinished shell syntax); the lines
//     after it, up to the next "$ ", are output it must print, in that
//     order, on stdout or stderr. The output may hold other lines before,
//     between and after them (the README may shorten output). A line "..."
//     says lines were left out; "..." inside a line stands for any text.
//   - ```sh (or bash, shell): a script. Every command runs; none may fail.
//     Its output is not checked.
//   - anything else (```text, no language): shown only, never run.
//
// Output is compared after normalisation, so that what changes from run to
// run does not count: every run of letters and digits that contains a
// digit or is at least 16 characters long (DIDs, ids, hashes, heights,
// times, counts) matches any other such run, and runs of spaces match runs
// of spaces. Words keep their meaning: "VALID" never matches "INVALID".
//
// A command must exit 0 unless its last line ends with a comment
// "# exit N" (e.g. "# exit 1: revoked"): then it must exit N. A command
// ending in "&" runs in the background; the walkthrough waits until its
// shown output has appeared (show the line that says a service is ready),
// for at most the command timeout.
//
// Directives, an HTML comment on a line of their own before a block (not
// rendered on GitHub), change what happens to that block:
//
//	<!-- walkthrough: skip REASON -->      do not run the block (say why)
//	<!-- walkthrough: make-run-output -->  the block shows what `make run` prints: check it
//	<!-- walkthrough: stop-make-run -->    first stop make run as Ctrl-C does, then run the block
//	<!-- walkthrough: fresh-shell -->      run the block in a shell of its own (repository root, fresh
//	                                       environment), stopped with its jobs after the block
//
// # The environment
//
// Before the first block, the walkthrough starts `make run` as a reader
// does in a second terminal, with an empty HOME (so the node's home is
// ~/.medid/registryd) and waits until its demo is done. Every command then
// runs in one bash started in the repository root with that HOME, the
// machine's PATH and Go caches, and nothing else of medid's: variables,
// exports and cd carry from one command to the next, as in a terminal.
//
// Each loopback address the file names (127.0.0.1:PORT or localhost:PORT)
// is rewritten, in commands and in expected output alike, to a free port
// picked for this run, the same one everywhere; 127.0.0.1:8080 is the
// registry make run started. /home/you in shown output is the fresh HOME.
// At the end, everything the shell started in the background is stopped
// (SIGTERM to its process group), then make run (SIGINT).
package walkthrough
