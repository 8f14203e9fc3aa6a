package simtest

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math/rand/v2"
)

// A schedule is the list of choices the driver made, each a number below
// the bound it was drawn with. A seed generates them; a recorded list
// replays them (a shrunk schedule, chooser.replay), and any list is a
// valid schedule: a value at or above its bound wraps, a missing value is
// 0 (the first choice).
type chooser struct {
	rnd    *rand.Rand
	replay []uint32 // when set: the choices to make, in order
	pos    int
	made   []uint32 // every choice made, in order
}

func newChooser(seed uint64, replay []uint32) *chooser {
	return &chooser{rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), replay: replay}
}

// intn draws a number in [0, n).
func (c *chooser) intn(n int) int {
	var v uint32
	if c.replay != nil {
		// Every draw takes its place in the list, a forced one (n ≤ 1)
		// too, so a recorded list lines up with the draws it replays.
		if c.pos < len(c.replay) && n > 1 {
			v = c.replay[c.pos] % uint32(n)
		}
		c.pos++
	} else if n > 1 {
		v = uint32(c.rnd.IntN(n))
	}
	c.made = append(c.made, v)
	return int(v)
}

// chance is true with probability p/1000.
func (c *chooser) chance(p int) bool { return c.intn(1000) < p }

// pick returns a random element's index by weights (0: never).
func (c *chooser) weighted(weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	if total == 0 {
		return -1
	}
	x := c.intn(total)
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// encodeSchedule writes choices as uvarints, base64: what a failure
// prints and `make sim SCHEDULE=` reads back.
func encodeSchedule(ch []uint32) string {
	for len(ch) > 0 && ch[len(ch)-1] == 0 {
		ch = ch[:len(ch)-1] // a missing choice is 0
	}
	b := make([]byte, 0, len(ch)*2)
	for _, v := range ch {
		b = binary.AppendUvarint(b, uint64(v))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeSchedule(s string) ([]uint32, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	var out []uint32
	for len(b) > 0 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, errors.New("simtest: damaged schedule")
		}
		out = append(out, uint32(v))
		b = b[n:]
	}
	return out, nil
}
