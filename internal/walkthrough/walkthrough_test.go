package walkthrough

import (
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	md := strings.Join([]string{
		"# Title",       // 1
		"```sh",         // 2
		"# a comment",   // 3
		"make build",    // 4
		"export A=1 \\", // 5
		"  B=2",         // 6
		"```",           // 7
		"<!-- walkthrough: skip needs a display -->", // 8
		"```sh",                  // 9
		"make app",               // 10
		"```",                    // 11
		"```console",             // 12
		"$ cat > a.json <<'EOF'", // 13
		"{\"x\": 1}",             // 14
		"EOF",                    // 15
		"$ medid vc verify a.jwt   # exit 1: revoked",    // 16
		"medid vc: INVALID credential: revoked",          // 17
		"...",                                            // 18
		"$ medid serve verifier --addr 127.0.0.1:8444 &", // 19
		"listening on 127.0.0.1:8444",                    // 20
		"$ if true; then",                                // 21
		"  echo yes",                                     // 22
		"fi",                                             // 23
		"yes",                                            // 24
		"```",                                            // 25
		"```text",                                        // 26
		"log, not run",                                   // 27
		"```",                                            // 28
	}, "\n")
	doc, err := Parse([]byte(md))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(doc.Blocks), 4; got != want {
		t.Fatalf("blocks = %d, want %d", got, want)
	}
	b := doc.Blocks
	if b[0].Kind != KindScript || len(b[0].Units) != 2 || b[0].Units[1].Command != "export A=1 \\\n  B=2" || b[0].Units[1].Line != 5 {
		t.Errorf("script block = %+v", b[0])
	}
	if b[1].Directive != DirectiveSkip || b[1].Reason != "needs a display" {
		t.Errorf("skip directive = %q %q", b[1].Directive, b[1].Reason)
	}
	tr := b[2].Units
	if len(tr) != 4 {
		t.Fatalf("transcript units = %d, want 4: %+v", len(tr), tr)
	}
	tests := []struct {
		name       string
		u          Unit
		line, exit int
		cmd        string
		expected   []string
		background bool
	}{
		{"here-document", tr[0], 13, 0, "cat > a.json <<'EOF'\n{\"x\": 1}\nEOF", nil, false},
		{"expected failure", tr[1], 16, 1, "medid vc verify a.jwt   # exit 1: revoked", []string{"medid vc: INVALID credential: revoked", "..."}, false},
		{"background", tr[2], 19, 0, "medid serve verifier --addr 127.0.0.1:8444 &", []string{"listening on 127.0.0.1:8444"}, true},
		{"unfinished syntax", tr[3], 21, 0, "if true; then\n  echo yes\nfi", []string{"yes"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.u.Line != tt.line || tt.u.WantExit != tt.exit || tt.u.Command != tt.cmd || !slices.Equal(tt.u.Expected, tt.expected) || tt.u.Background != tt.background {
				t.Errorf("got %+v\nwant line %d exit %d cmd %q expected %q background %v", tt.u, tt.line, tt.exit, tt.cmd, tt.expected, tt.background)
			}
		})
	}
	if b[3].Kind != KindShown || len(b[3].Units) != 0 {
		t.Errorf("text block = %+v, want shown only", b[3])
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, md, want string
	}{
		{"unclosed fence", "```sh\necho", "never closed"},
		{"dangling directive", "<!-- walkthrough: skip x -->\ntext", "not followed by a fenced block"},
		{"unknown directive", "<!-- walkthrough: sometimes -->\n```sh\necho\n```", "unknown walkthrough directive"},
		{"output before command", "```console\nhello\n$ echo\n```", "must start with a \"$ \" command"},
		{"syntax error", "```sh\necho )\n```", "syntax error"},
		{"open here-document", "```console\n$ cat <<EOF\nx\n```", "never closed"},
		{"commands nothing runs", "text\n```text\n$ medid vc verify a.jwt\nVALID\n```", "line 3: a ```text block shows the command \"medid vc verify a.jwt\" that nothing runs"},
		{"commands in a block with no language", "```\n$ medid key new\n```", "that nothing runs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.md))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"registered at block 12", "registered at block #"},
		{"did: did:medid:XW14tZoGjPu9mCtGMranPM", "did: did:medid:#"},
		{"did:medid:abcdefghijklmnopqrstuv#key-1", "did:medid:##key-#"},
		{"  ID    TYPE   STATUS  ", "ID TYPE STATUS"},
		{"VALID credential", "VALID credential"},
		{"2026-11-21T16:01:52Z (29 days left)", "#-#-#:#:# (# days left)"},
		// UUID groups and abbreviated DID tails may hold no digit.
		{"id: urn:uuid:27c23613-defb-45ea-b321-36994ce364c7", "id: urn:uuid:#"},
		{"by did:key:z6MkfaJb1c…UQtNRb", "by did:key:#…#"},
		{"by did:key:z6MkiFXRqN…6eXVa", "by did:key:#…#"},
		// Words stay words, also after an ellipsis that follows a word.
		{"Penicillin…allergy st-mary-oid", "Penicillin…allergy st-mary-oid"},
	}
	for _, tt := range tests {
		if got := normalize(tt.in); got != tt.want {
			t.Errorf("normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMatch(t *testing.T) {
	out := strings.Join([]string{
		"did: did:medid:Q7hdbhUWc5PY6dZ2WWn1P",
		"kid: did:medid:Q7hdbhUWc5PY6dZ2WWn1P#key-1",
		"registered at block 7; sign with --issuer did:medid:Q7hdbhUWc5PY6dZ2WWn1P",
		"ID                TYPE                          STATUS",
		"c03710bba1181ecb  AllergyIntoleranceCredential  revoked",
	}, "\n")
	tests := []struct {
		name     string
		expected []string
		wantMiss string // "" when it matches
	}{
		{"same lines, other ids", []string{"did: did:medid:XW14tZoGjPu9mCtGMranPM", "kid: did:medid:XW14tZoGjPu9mCtGMranPM#key-1"}, ""},
		{"elided lines and in-line elision", []string{"did: did:medid:XW14tZoGjPu9mCtGMranPM", "...", "registered at block 2; sign with ..."}, ""},
		{"columns of another width", []string{"ID  TYPE  STATUS", "d4f8a1bba1181ecb AllergyIntoleranceCredential revoked"}, ""},
		{"a word differs", []string{"c03710bba1181ecb  AllergyIntoleranceCredential  valid"}, "c03710bba1181ecb  AllergyIntoleranceCredential  valid"},
		{"out of order", []string{"kid: did:medid:X1#key-1", "did: did:medid:X1"}, "did: did:medid:X1"},
		{"VALID is not INVALID", []string{"INVALID"}, "INVALID"},
		{"nothing expected", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mm := match(tt.expected, out)
			switch {
			case tt.wantMiss == "" && mm != nil:
				t.Errorf("match = miss at %q, want a match", mm.Want)
			case tt.wantMiss != "" && (mm == nil || mm.Want != tt.wantMiss):
				t.Errorf("match = %+v, want a miss at %q", mm, tt.wantMiss)
			}
		})
	}
}

// TestParseShownCommandsSkipped: a shown block with commands is accepted
// when a directive says why it does not run.
func TestParseShownCommandsSkipped(t *testing.T) {
	md := "<!-- walkthrough: skip opens a window -->\n```text\n$ make app\n```\n<!-- walkthrough: make-run-output -->\n```text\nregistryd: ready\n```\n```text\nplain output, no command\n```\n"
	doc, err := Parse([]byte(md))
	if err != nil || len(doc.Blocks) != 3 {
		t.Fatalf("Parse = %v blocks, %v; want 3 blocks, no error", doc, err)
	}
}
