package rewrite

// Document rules. A speculation rule with a "where" condition (a rule of
// "source": "document") has the browser prefetch or prerender the page's
// own links that match it, not URLs it lists: {"where": {"selector_matches":
// "a"}} picks every link, a vendor's among them. Which links a condition
// picks cannot be read from the rules (the page's links change as it runs,
// and conditions are URL patterns and CSS selectors), so a document rule
// whose condition does not keep it to the site's own paths is narrowed to
// them: its "where" becomes {"and": [where, {"href_matches": "/*"}]}. The
// site's own links are still fetched ahead; links to other hosts never are,
// consent or not, as a visitor's choice cannot name them. Rules that keep to
// the site already (WordPress's {"href_matches": "/*"}, say) stay as they
// were.

// ownPaths is the condition a narrowed rule adds: paths on the page's own
// origin (against its base, as the browser resolves it).
const ownPaths = "/*"

// narrowDocumentRules narrows, in place, the document rules of a decoded
// rule set that could pick another host's links, and reports whether it
// changed any.
func narrowDocumentRules(set any) bool {
	changed := false
	eachDocumentRule(set, func(rule map[string]any) {
		if where, ok := rule["where"]; !ok {
			rule["where"] = map[string]any{"href_matches": ownPaths}
		} else if !keepsToOwnPaths(where) {
			rule["where"] = map[string]any{"and": []any{where, map[string]any{"href_matches": ownPaths}}}
		} else {
			return
		}
		changed = true
	})
	return changed
}

// eachDocumentRule calls fn with each document rule of a decoded rule set:
// the rules are in its top-level lists ("prefetch", "prerender").
func eachDocumentRule(set any, fn func(rule map[string]any)) {
	top, _ := set.(map[string]any)
	for _, list := range top {
		rules, _ := list.([]any)
		for _, rule := range rules {
			if rule, ok := rule.(map[string]any); ok && isDocumentRule(rule) {
				fn(rule)
			}
		}
	}
}

// isDocumentRule reports a rule that picks the page's links: it says so, or
// says nothing and has a condition (the browser infers the source).
func isDocumentRule(rule map[string]any) bool {
	if source, ok := rule["source"]; ok {
		return source == "document"
	}
	_, ok := rule["where"]
	return ok
}

// keepsToOwnPaths reports a condition that only links on the page's own
// origin can meet: a path pattern, a conjunction with one, or a disjunction
// of such. Anything else (a selector, a negation, a pattern naming a host
// or scheme) may pick another host's links.
func keepsToOwnPaths(cond any) bool {
	c, ok := cond.(map[string]any)
	if !ok {
		return false
	}
	predicate, value := "", any(nil)
	for k, v := range c {
		if k == "relative_to" {
			continue
		}
		if predicate != "" {
			return false // two predicates: not a condition a browser takes
		}
		predicate, value = k, v
	}
	switch predicate {
	case "and":
		parts, _ := value.([]any)
		for _, p := range parts {
			if keepsToOwnPaths(p) {
				return true
			}
		}
	case "or":
		parts, _ := value.([]any)
		for _, p := range parts {
			if !keepsToOwnPaths(p) {
				return false
			}
		}
		return len(parts) > 0
	case "href_matches":
		patterns, ok := value.([]any)
		if !ok {
			patterns = []any{value}
		}
		for _, p := range patterns {
			if !isOwnPathPattern(p) {
				return false
			}
		}
		return len(patterns) > 0
	}
	return false
}

// isOwnPathPattern reports a URL pattern that can only match on the page's
// own origin: a string that is a path ("/shop/*", not "//host/…"), or a
// dictionary of path, query and fragment parts only (the rest comes from
// the base).
func isOwnPathPattern(p any) bool {
	switch p := p.(type) {
	case string:
		return len(p) > 0 && p[0] == '/' && (len(p) == 1 || p[1] != '/' && p[1] != '\\')
	case map[string]any:
		for k := range p {
			if k != "pathname" && k != "search" && k != "hash" {
				return false
			}
		}
		return true
	}
	return false
}
