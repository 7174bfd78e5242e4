package caddymodule

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"go.uber.org/zap"

	"github.com/consentgate/consentgate/banner"
	"github.com/consentgate/consentgate/consent/policy"
)

// policyHistory remembers what every policy version asked about, in Caddy's
// data directory, so that a visitor asked again after a change is told what
// is new.
type policyHistory struct {
	current  *policy.Policy
	fallback string
	lines    sync.Map // lineKey → string
}

// policySnapshot is what one policy version asked about.
type policySnapshot struct {
	Purposes []string `json:"purposes"`
	Vendors  []string `json:"vendors"`
}

type lineKey struct{ version, lang string }

var versionRE = regexp.MustCompile(`^[0-9a-f]{16}$`)

func snapshotPath(version string) string { return dataPath("policies/" + version + ".json") }

// openPolicyHistory records the current version. Failing to do so only
// makes the "what changed" line less specific, so it is logged, not fatal.
func openPolicyHistory(p *policy.Policy, fallback string, logger *zap.Logger) *policyHistory {
	_, err := loadOrCreateJSON(snapshotPath(p.Version), func() policySnapshot {
		var s policySnapshot
		for _, pu := range p.Purposes {
			s.Purposes = append(s.Purposes, pu.ID)
		}
		for _, v := range p.Vendors {
			s.Vendors = append(s.Vendors, v.ID)
		}
		return s
	})
	if err != nil {
		logger.Warn("could not record the policy version; banners after a change will not name what is new", zap.Error(err))
	}
	return &policyHistory{current: p, fallback: fallback}
}

// changed is the banner's line for a visitor whose earlier choice was made
// under version old: the generic notice, and what is new if old is known.
func (ph *policyHistory) changed(old, lang string, texts banner.Texts) string {
	key := lineKey{old, lang}
	if line, ok := ph.lines.Load(key); ok {
		return line.(string)
	}
	line := texts["changed"]
	if added := ph.added(old, lang); len(added) > 0 {
		line += " " + fmt.Sprintf(texts["changed_new"], strings.Join(added, ", "))
	}
	ph.lines.Store(key, line)
	return line
}

// added names the purposes and vendors the current policy has and version
// old had not.
func (ph *policyHistory) added(old, lang string) []string {
	var snap policySnapshot
	if !versionRE.MatchString(old) || readJSON(snapshotPath(old), &snap) != nil {
		return nil
	}
	had := map[string]bool{}
	for _, id := range snap.Purposes {
		had["p:"+id] = true
	}
	for _, id := range snap.Vendors {
		had["v:"+id] = true
	}
	purposeName := func(id string) string {
		p, _ := ph.current.Purpose(id)
		return banner.PickText(p.Name, lang, ph.fallback, id)
	}
	var added []string
	for _, p := range ph.current.Purposes {
		if !had["p:"+p.ID] {
			added = append(added, purposeName(p.ID))
		}
	}
	for _, v := range ph.current.Vendors {
		if !had["v:"+v.ID] {
			added = append(added, v.Name+" ("+purposeName(v.Purpose)+")")
		}
	}
	return added
}
