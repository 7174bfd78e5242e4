package caddymodule

import (
	"strconv"
	"testing"
)

// TestLengthCacheBounded: however many pages are seen, the table holds at
// most maxLengths entries, and keys keep their parts apart.
func TestLengthCacheBounded(t *testing.T) {
	c := newLengthCache()
	for i := range 3 * maxLengths {
		c.learn(c.key("shop.test", "/p?"+strconv.Itoa(i), `"e"`, "100", "-cg0"), int64(i))
	}
	if len(c.m) != maxLengths {
		t.Errorf("%d entries after %d pages, want the bound %d", len(c.m), 3*maxLengths, maxLengths)
	}
	last := c.key("shop.test", "/p?"+strconv.Itoa(3*maxLengths-1), `"e"`, "100", "-cg0")
	if n, ok := c.get(last); !ok || n != 3*maxLengths-1 {
		t.Errorf("the page learnt last: %d %v", n, ok)
	}
	if c.key("a", "bc") == c.key("ab", "c") {
		t.Error(`key("a", "bc") == key("ab", "c")`)
	}
}
