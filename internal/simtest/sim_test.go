package simtest

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

var flagSeed = flag.Uint64("seed", 0, "run one schedule with this seed and print its trace")

func TestOneSeed(t *testing.T) {
	seed := *flagSeed
	if seed == 0 {
		seed = 1
	}
	res := Run(Config{Seed: seed, Trace: os.Stdout})
	t.Logf("seed %d: %d steps, %d task runs, %d frames, %s", res.Seed, res.Steps, res.Tasks, res.Frames, res.Duration)
	if res.Failure != nil {
		t.Fatalf("seed %d: %v", seed, res.Failure)
	}
}

var flagN = flag.Int("n", 0, "schedules for TestMany")

func TestMany(t *testing.T) {
	if *flagN == 0 {
		t.Skip()
	}
	fails := 0
	var steps, tasks, frames int
	start := time.Now()
	for i := 1; i <= *flagN; i++ {
		if testing.Verbose() {
			fmt.Fprintf(os.Stderr, "seed %d\r", i)
		}
		res := Run(Config{Seed: uint64(i)})
		steps += res.Steps
		tasks += res.Tasks
		frames += res.Frames
		if res.Failure != nil {
			fails++
			if fails <= 10 {
				t.Logf("seed %d: %v", i, firstLine(res.Failure.Error()))
			}
		}
	}
	el := time.Since(start)
	t.Logf("%d schedules, %d failed, %.1f/s, %d steps, %d tasks, %d frames", *flagN, fails, float64(*flagN)/el.Seconds(), steps, tasks, frames)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
