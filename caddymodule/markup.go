package caddymodule

import (
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/consentgate/consentgate/consent/policy"
	"github.com/consentgate/consentgate/consent/rewrite"
)

// markupPurposes tells the operator, once per purpose, when page markup
// (data-consent="…") names a purpose the site does not ask about: a typo,
// or one left out by "services declared". Such an element is blocked for
// good, which no visitor can change and nothing else would show.
type markupPurposes struct {
	logger *zap.Logger
	seen   sync.Map // purpose → struct{}
	count  atomic.Int32
}

// unknownMarkupLimit bounds the purposes noted, against pages that make up
// a new one per request.
const unknownMarkupLimit = 100

func (m *markupPurposes) note(purpose, path string) {
	if _, known := m.seen.Load(purpose); known || m.count.Load() >= unknownMarkupLimit {
		return
	}
	if _, loaded := m.seen.LoadOrStore(purpose, struct{}{}); !loaded {
		m.count.Add(1)
		m.logger.Warn("page markup names a purpose this site does not ask about, so the element stays blocked: check its data-consent value, or declare the purpose",
			zap.String("purpose", purpose), zap.String("path", path))
	}
}

// markupJudge is a judge that notes the unknown purposes it meets.
type markupJudge struct {
	rewrite.Judge
	policy *policy.Policy
	notes  *markupPurposes
	path   string
}

func (j markupJudge) JudgePurpose(purpose []byte) rewrite.Verdict {
	v := j.Judge.JudgePurpose(purpose)
	if v.Block {
		if _, known := j.policy.Purpose(v.Purpose); !known {
			j.notes.note(v.Purpose, j.path)
		}
	}
	return v
}
