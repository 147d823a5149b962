//go:build go1.25

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/zoobzio/streamz"
)

// In a synctest bubble the real clock reads fake time, so the demo's
// timeline comes out exactly as scripted. The reasons in brackets are the
// processors' own, from the events they report.
const demoGolden = `streamz demo: scripted input on the real clock. Each line shows the time
since the start, who acted, and what happened.

Debounce 300ms: keystrokes in a search box. The search runs only when
typing pauses, not once per key.
+0.000s keys      typed "h", the box holds "h"
+0.075s keys      typed "e", the box holds "he"
+0.150s keys      typed "l", the box holds "hel"
+0.225s keys      typed "l", the box holds "hell"
+0.300s keys      typed "o", the box holds "hello"
+0.600s debounce  emitted "hello" (deadline: 300ms of quiet)
+0.700s keys      typed " w", the box holds "hello w"
+0.775s keys      typed "o", the box holds "hello wo"
+0.850s keys      typed "r", the box holds "hello wor"
+0.925s keys      typed "l", the box holds "hello worl"
+1.000s keys      typed "d", the box holds "hello world"
+1.100s keys      closed the search box: end of input
+1.100s debounce  emitted "hello world" (close: end of input)

Throttle 500ms: clicks on a Save button. The first click saves; repeats
during the cooldown are ignored.
+1.300s clicks    click 1
+1.300s throttle  passed click 1 (leading); cooldown until +1.800s
+1.350s clicks    click 2
+1.350s throttle  dropped click 2 (cooldown: within 500ms of click 1)
+1.400s clicks    click 3
+1.400s throttle  dropped click 3 (cooldown: within 500ms of click 1)
+1.450s clicks    click 4
+1.450s throttle  dropped click 4 (cooldown: within 500ms of click 1)
+1.900s clicks    click 5
+1.900s throttle  passed click 5 (leading); cooldown until +2.400s
+1.950s clicks    click 6
+1.950s throttle  dropped click 6 (cooldown: within 500ms of click 5)

Batch of up to 3 lines or 500ms: log lines shipped in groups, full or not.
+2.200s logs      line 1: GET /index.html 200
+2.300s logs      line 2: GET /style.css 200
+2.400s logs      line 3: GET /app.js 200
+2.400s batch     emitted lines 1-3 (size: 3 lines)
+2.500s logs      line 4: POST /api/save 201
+2.750s logs      line 5: GET /api/items 200
+3.000s batch     emitted lines 4-5 (latency: 500ms after line 4)
+3.100s logs      line 6: GET /favicon.ico 404
+3.200s logs      end of input
+3.200s batch     emitted line 6 (close: end of input)
`

func TestDemo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		began := time.Now()
		code := run(t.Context(), []string{"demo"}, strings.NewReader(""), &stdout, &stderr, streamz.RealClock)
		took := time.Since(began)
		assert.Equal(t, 0, code)
		assert.Empty(t, stderr.String())
		assert.Equal(t, demoGolden, stdout.String())
		assert.Less(t, took, 5*time.Second, "the demo must finish in under five seconds")
	})
}

func TestDemoStopsOnSignal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		var stdout bytes.Buffer
		status := make(chan int, 1)
		go func() {
			status <- run(ctx, []string{"demo"}, strings.NewReader(""), &stdout, &stdout, streamz.RealClock)
		}()
		time.Sleep(1350*time.Millisecond + time.Microsecond)
		began := time.Now()
		cancel()
		assert.Equal(t, 0, <-status)
		assert.Equal(t, began, time.Now(), "the demo stops at once")
		out := stdout.String()
		assert.True(t, strings.HasSuffix(out, "+1.350s throttle  dropped click 2 (cooldown: within 500ms of click 1)\n"), out)
	})
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errBoom }

func TestDemoWriteError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var stderr bytes.Buffer
		began := time.Now()
		code := run(t.Context(), []string{"demo"}, strings.NewReader(""), failingWriter{}, &stderr, streamz.RealClock)
		assert.Equal(t, 1, code)
		assert.Equal(t, "streamz demo: boom\n", stderr.String())
		assert.Equal(t, began, time.Now(), "the demo stops at the first write error")
	})
}
