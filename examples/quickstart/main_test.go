package main

import (
	"bytes"
	"io"
	"log"
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// The README's quick start is this program, byte for byte (the root
// package's TestReadmeGoBlocks checks that): run as a newcomer would, it
// prints the batches in order and logs the line that failed to parse.
func TestQuickStart(t *testing.T) {
	var logged bytes.Buffer
	defer log.SetOutput(log.Writer())
	log.SetOutput(&logged)

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	printed := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(r)
		printed <- b
	}()
	main()
	os.Stdout = stdout
	w.Close()
	got := string(<-printed)
	r.Close()

	want := "insert [{apple 3} {pear 2}]\ninsert [{fig 1} {kiwi 4}]\ninsert [{lime 5}]\n"
	if got != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", got, want)
	}
	const failure = `StreamError[parse]: strconv.Atoi: parsing "many": invalid syntax (item: [{plum 0}], time: `
	if strings.Count(logged.String(), "\n") != 1 || !strings.Contains(logged.String(), failure) {
		t.Errorf("log: %q, want one line with %q", logged.String(), failure)
	}
}
