package rewrite

import (
	"io"

	"github.com/consentgate/consentgate/consent/catalog"
)

// judgeSrcdoc judges the document an iframe's srcdoc holds, as the frame
// would load it: the first element in it that the judge blocks blocks the
// whole frame, until that element's vendor or purpose is granted.
func (r *Rewriter) judgeSrcdoc(doc []byte) Verdict {
	if _, none := r.judge.(nopJudge); none {
		return Verdict{}
	}
	j := firstBlock{Judge: r.judge}
	nested := New(io.Discard, Options{Judge: &j})
	nested.baseSet, nested.base = r.baseSet, r.base // a srcdoc document has its parent's base
	nested.Write(attrText(doc))
	nested.Close()
	return j.v
}

// firstBlock asks another Judge and keeps the first verdict that blocks.
type firstBlock struct {
	Judge
	v Verdict
}

func (f *firstBlock) keep(v Verdict) Verdict {
	if v.Block && !f.v.Block {
		f.v = v
	}
	return v
}

func (f *firstBlock) JudgeURL(kind catalog.Kind, url []byte) Verdict {
	return f.keep(f.Judge.JudgeURL(kind, url))
}

func (f *firstBlock) JudgeInline(script []byte) Verdict {
	return f.keep(f.Judge.JudgeInline(script))
}

func (f *firstBlock) JudgePurpose(purpose []byte) Verdict {
	return f.keep(f.Judge.JudgePurpose(purpose))
}
